package cache

import (
	"bytes"
	"context"
	"io"
	"math/rand"
	"testing"

	"github.com/vanthu/vanthu/storage/blob"
)

// pdfjsRanges is the sequence of range requests pdf.js makes for a file of
// the given size: the first chunk, the last (where the cross-reference
// table is), then every other chunk in order, 64 KiB each.
func pdfjsRanges(size int64) [][2]int64 {
	const chunk = 65536
	last := (size - 1) / chunk * chunk
	out := [][2]int64{{0, chunk}, {last, size - last}}
	for off := int64(chunk); off < last; off += chunk {
		out = append(out, [2]int64{off, chunk})
	}
	return out
}

// BenchmarkPdfjsRanges reads a 1 MiB version as pdf.js does (17 ranges of
// 64 KiB) from MinIO: uncached (every range a GET), through a cold cache
// (the first range fetches the whole file, the others are hits) and
// through a warm one (every range a hit).
//
//	go run ./internal/testharness/cmd/testenv -- go test -run '^$' -bench PdfjsRanges -benchtime 20x -count 3 ./storage/blob/cache/
func BenchmarkPdfjsRanges(b *testing.B) {
	ctx := context.Background()
	cfg := newMinIOConfig(b)
	data := make([]byte, 1<<20)
	rand.New(rand.NewSource(9)).Read(data)
	info, err := cfg.Put(ctx, bytes.NewReader(data), blob.PutOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ranges := pdfjsRanges(info.Size)
	readAll := func(b *testing.B, s blob.Store) {
		for _, r := range ranges {
			rc, err := s.Open(ctx, info.Key, r[0], r[1])
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil || n != r[1] {
				b.Fatalf("range %v: %d bytes, %v", r, n, err)
			}
		}
	}
	b.Run("uncached", func(b *testing.B) {
		for range b.N {
			readAll(b, cfg)
		}
	})
	b.Run("cold", func(b *testing.B) {
		for range b.N {
			readAll(b, New(cfg, Options{Budget: DefaultBudget}))
		}
	})
	b.Run("warm", func(b *testing.B) {
		c := New(cfg, Options{Budget: DefaultBudget})
		readAll(b, c)
		b.ResetTimer()
		for range b.N {
			readAll(b, c)
		}
	})
}

// BenchmarkRead1MiB reads a whole 1 MiB version, as signing and issuing
// read the version they sign, from MinIO and from a warm cache.
//
//	go run ./internal/testharness/cmd/testenv -- go test -run '^$' -bench Read1MiB -benchtime 20x -count 3 ./storage/blob/cache/
func BenchmarkRead1MiB(b *testing.B) {
	ctx := context.Background()
	s := newMinIOConfig(b)
	data := make([]byte, 1<<20)
	rand.New(rand.NewSource(10)).Read(data)
	info, err := s.Put(ctx, bytes.NewReader(data), blob.PutOptions{})
	if err != nil {
		b.Fatal(err)
	}
	c := New(s, Options{Budget: DefaultBudget})
	for _, st := range []struct {
		name  string
		store blob.Store
	}{{"uncached", s}, {"cached", c}} {
		b.Run(st.name, func(b *testing.B) {
			for range b.N {
				rc, err := st.store.Open(ctx, info.Key, 0, -1)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, rc)
				rc.Close()
				if err != nil || n != info.Size {
					b.Fatalf("%d bytes, %v", n, err)
				}
			}
		})
	}
}
