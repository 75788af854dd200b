package openai

import (
	"bytes"
	"hash/fnv"
	"mime/multipart"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/switchyard-go/switchyard/provider"
)

// formBody encodes a transcription form as multipart/form-data: the text
// fields in order, then "model", then the "file" part. The boundary is
// derived from the form's content (and checked not to occur in it), so the
// same form always encodes to the same bytes: a retry, on this deployment
// or another, sends an identical body.
func formBody(f *provider.Form, model string) (body []byte, contentType string) {
	boundary := formBoundary(f, model)
	size := len(f.File) + len(f.FileName) + len(model) + 512
	for _, fld := range f.Fields {
		size += len(fld.Name) + len(fld.Value) + 128
	}
	var buf bytes.Buffer
	buf.Grow(size)
	w := multipart.NewWriter(&buf)
	_ = w.SetBoundary(boundary) // valid by construction
	// Writes to a bytes.Buffer cannot fail.
	for _, fld := range f.Fields {
		if fld.Name == "model" || fld.Name == "file" {
			continue
		}
		_ = w.WriteField(fld.Name, fld.Value)
	}
	_ = w.WriteField("model", model)
	h := make(textproto.MIMEHeader, 2)
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+quoteEscaper.Replace(f.FileName)+`"`)
	ct := f.FileContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	part, _ := w.CreatePart(h)
	_, _ = part.Write(f.File)
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "%0D", "\n", "%0A")

// formBoundary returns a boundary that depends only on the form: a hash of
// its fields, file name, size and the file's first and last kilobyte,
// changed until it occurs in no part of the form.
func formBoundary(f *provider.Form, model string) string {
	h := fnv.New64a()
	for _, fld := range f.Fields {
		h.Write([]byte(fld.Name))
		h.Write([]byte{0})
		h.Write([]byte(fld.Value))
		h.Write([]byte{0})
	}
	h.Write([]byte(model))
	h.Write([]byte{0})
	h.Write([]byte(f.FileName))
	h.Write([]byte(strconv.Itoa(len(f.File))))
	h.Write(f.File[:min(len(f.File), 1024)])
	h.Write(f.File[max(0, len(f.File)-1024):])
	sum := h.Sum64()
	for i := uint64(0); ; i++ {
		b := "switchyard-" + strconv.FormatUint(sum+i, 36) + "-" + strconv.FormatUint(^(sum+i), 36)
		if !formContains(f, model, b) {
			return b
		}
	}
}

func formContains(f *provider.Form, model, s string) bool {
	if bytes.Contains(f.File, []byte(s)) || strings.Contains(f.FileName, s) || strings.Contains(model, s) {
		return true
	}
	for _, fld := range f.Fields {
		if strings.Contains(fld.Name, s) || strings.Contains(fld.Value, s) {
			return true
		}
	}
	return false
}
