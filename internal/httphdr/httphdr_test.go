package httphdr

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		h         http.Header
		wantName  string // "" for no error
		wantInMsg string
	}{
		{"nil", nil, "", ""},
		{"valid", http.Header{"X-Team": {"a b\tc"}, "AI-Resource-Group": {"rg"}}, "", ""},
		{"space in name (the seed's AI-Resource Group)", http.Header{"AI-Resource Group": {"rg"}}, "AI-Resource Group", `" " at byte 11`},
		{"colon in name", http.Header{"X:Y": {"v"}}, "X:Y", `":" at byte 1`},
		{"empty name", http.Header{"": {"v"}}, "", "it is empty"},
		{"newline in value", http.Header{"X-A": {"ok", "a\r\nX-Injected: 1"}}, "X-A", "control character"},
		{"NUL in value", http.Header{"X-A": {"a\x00"}}, "X-A", "control character"},
		{"first bad name by order", http.Header{"Z Z": {"v"}, "A A": {"v"}}, "A A", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.h)
			if tt.wantName == "" && tt.wantInMsg == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("Check = %v, want an *Error", err)
			}
			if he.Name != tt.wantName {
				t.Errorf("Name %q, want %q", he.Name, tt.wantName)
			}
			if !strings.Contains(he.Msg, tt.wantInMsg) {
				t.Errorf("Msg %q does not say %q", he.Msg, tt.wantInMsg)
			}
		})
	}
}

// FuzzCheck: Check never panics, and what it accepts net/http can write.
func FuzzCheck(f *testing.F) {
	f.Add("X-A", "v")
	f.Add("AI-Resource Group", "rg")
	f.Add("X", "a\r\nb")
	f.Fuzz(func(t *testing.T, name, value string) {
		h := http.Header{name: {value}}
		if Check(h) != nil {
			return
		}
		var b strings.Builder
		if err := h.Write(&b); err != nil {
			t.Fatalf("accepted %q: %q but Write fails: %v", name, value, err)
		}
		if strings.ContainsAny(value, "\r\n") {
			t.Fatalf("accepted a value with CR or LF: %q", value)
		}
	})
}
