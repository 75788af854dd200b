package handler

import (
	"errors"
	"io"
	"net/http"
	"os"

	"github.com/switchyard-go/switchyard/provider"
)

// maxFormField bounds one text field of a multipart upload (a prompt, a
// language code).
const maxFormField = 1 << 20

// readForm reads a multipart/form-data upload (an audio transcription)
// into req.Form, taking "model" and "stream" from its fields. The file is
// kept in memory so that a retry can send it again.
func (h *Handler) readForm(w http.ResponseWriter, r *http.Request, req *provider.Request) *apiError {
	if r.ContentLength > h.maxUpload {
		return tooLarge(h.maxUpload)
	}
	dl := newBodyDeadline(w, h.bodyTimeout)
	r.Body = deadlineBody{http.MaxBytesReader(w, r.Body, h.maxUpload), &dl}
	if e := h.readParts(w, r, req); e != nil {
		return e
	}
	dl.clear()
	return nil
}

// readParts reads the parts of a multipart upload for readForm.
func (h *Handler) readParts(w http.ResponseWriter, r *http.Request, req *provider.Request) *apiError {
	mr, err := r.MultipartReader()
	if err != nil {
		return badRequest("", "invalid_form", "expected a multipart/form-data body: "+err.Error())
	}
	form := &provider.Form{}
	gotFile := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return h.formError(w, err)
		}
		name := part.FormName()
		if name == "file" {
			if gotFile {
				_ = part.Close()
				return badRequest("file", "invalid_form", "more than one file part")
			}
			gotFile = true
			form.FileName = part.FileName()
			form.FileContentType = part.Header.Get("Content-Type")
			form.File, err = io.ReadAll(part)
			_ = part.Close()
			if err != nil {
				return h.formError(w, err)
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
		_ = part.Close()
		if err != nil {
			return h.formError(w, err)
		}
		if len(b) > maxFormField {
			return badRequest(name, "invalid_form", "form field "+name+" is longer than 1 MiB")
		}
		switch name {
		case "":
			continue
		case "model":
			req.Model = string(b)
		case "stream":
			req.Stream = string(b) == "true"
			form.Fields = append(form.Fields, provider.FormField{Name: name, Value: string(b)})
		default:
			form.Fields = append(form.Fields, provider.FormField{Name: name, Value: string(b)})
		}
	}
	if !gotFile {
		return badRequest("file", "missing_file", "you must provide a file part named \"file\"")
	}
	req.Form = form
	return nil
}

// formError answers a failure while reading a multipart body: 413 over
// the limit, else 400.
func (h *Handler) formError(w http.ResponseWriter, err error) *apiError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return bodyReadError(w, err, h.bodyTimeout)
	}
	return badRequest("", "invalid_form", "reading the multipart body: "+err.Error())
}
