package openaitest

import (
	"net/http"
	"strconv"
	"strings"
)

// transcriptText is what the fake hears in an uploaded file: the
// configured reply, or a sentence naming the file and its size.
func (c *call) transcriptText() string {
	f := c.req.form
	if r := c.h.cfg.reply; r != "" {
		return r
	}
	return "transcript of " + f.fileName + " (" + strconv.Itoa(f.fileSize) + " bytes)"
}

func (c *call) transcription() {
	text := c.transcriptText()
	if c.fault == FaultContentFilter {
		text = ""
	}
	if !c.sleep(c.h.cfg.latency) {
		return
	}
	switch c.req.form.responseFormat {
	case "", "json":
		c.writeOK(struct {
			Text string `json:"text"`
		}{text})
	case "verbose_json":
		c.writeOK(struct {
			Task     string     `json:"task"`
			Language string     `json:"language"`
			Duration float64    `json:"duration"`
			Text     string     `json:"text"`
			Segments []struct{} `json:"segments"`
		}{"transcribe", "english", 1, text, []struct{}{}})
	case "text":
		c.writeBody(http.StatusOK, "text/plain; charset=utf-8", []byte(text+"\n"))
	case "srt":
		c.writeBody(http.StatusOK, "text/plain; charset=utf-8", []byte("1\n00:00:00,000 --> 00:00:01,000\n"+text+"\n\n"))
	case "vtt":
		c.writeBody(http.StatusOK, "text/plain; charset=utf-8", []byte("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n"+text+"\n\n"))
	default:
		c.badRequest("response_format", "Invalid value for 'response_format': "+strconv.Quote(c.req.form.responseFormat)+
			". Supported values are: "+strings.Join([]string{"'json'", "'text'", "'srt'", "'verbose_json'", "'vtt'"}, ", ")+".")
	}
}
