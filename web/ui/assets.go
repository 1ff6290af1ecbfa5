package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// static holds our own CSS and scripts (committed) and, under vendor/, the
// front-end packages copied from node_modules by `make assets`. A build
// without them still compiles and serves every page; pages that need a
// vendored file then work without it (no preview, no partial updates).
//
//go:embed static
var staticFS embed.FS

// assets serves the static files with long-lived caching: a page links
// each one with its content hash in the query, so a changed file is a new
// URL.
type assets struct {
	fs     fs.FS
	hashes map[string]string
}

func loadAssets() *assets {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	a := &assets{fs: sub, hashes: map[string]string{}}
	_ = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.hashes[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	return a
}

// url is the address of a static file, versioned by its content.
func (a *assets) url(name string) string {
	if h, ok := a.hashes[name]; ok {
		return "/static/" + name + "?v=" + h
	}
	return "/static/" + name
}

// has reports whether a static file is there (vendored files are only
// after `make assets`).
func (a *assets) has(name string) bool {
	_, ok := a.hashes[name]
	return ok
}

func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/static/")
	b, err := fs.ReadFile(a.fs, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if strings.HasSuffix(name, ".mjs") {
		ct = "text/javascript; charset=utf-8"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	if r.URL.Query().Get("v") == a.hashes[name] {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+a.hashes[name]+`"`)
	if match := r.Header.Get("If-None-Match"); match == `"`+a.hashes[name]+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(b)
}
