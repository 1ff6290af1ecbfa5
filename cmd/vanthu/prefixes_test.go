package main

import (
	"fmt"
	"testing"
)

func TestParsePrefixes(t *testing.T) {
	cases := []struct {
		in      []string
		want    string
		wantErr bool
	}{
		{nil, "[]", false},
		{[]string{"10.0.0.1"}, "[10.0.0.1/32]", false},
		{[]string{" 10.0.0.0/8 ", "fd00::1"}, "[10.0.0.0/8 fd00::1/128]", false},
		{[]string{"10.1.2.3/16"}, "[10.1.0.0/16]", false},
		{[]string{"::ffff:10.0.0.1"}, "[10.0.0.1/32]", false},
		{[]string{"proxy.local"}, "", true},
		{[]string{"10.0.0.0/33"}, "", true},
	}
	for _, c := range cases {
		got, err := parsePrefixes(c.in)
		if (err != nil) != c.wantErr || (err == nil && fmt.Sprint(got) != c.want) {
			t.Errorf("parsePrefixes(%q) = %v, %v; want %s (error %v)", c.in, got, err, c.want, c.wantErr)
		}
	}
}
