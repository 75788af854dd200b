package handler

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/switchyard-go/switchyard/deployment"
)

// modelObject is one entry of the models list, in OpenAI's shape.
type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

type modelList struct {
	Object string        `json:"object"`
	Data   []modelObject `json:"data"`
}

// serveModels lists the model groups and listed aliases.
func (h *Handler) serveModels(w http.ResponseWriter) {
	names := h.modelNames()
	list := modelList{Object: "list", Data: make([]modelObject, len(names))}
	for i, n := range names {
		list.Data[i] = modelObject{ID: n, Object: "model", Created: h.created, OwnedBy: "switchyard"}
	}
	writeJSON(w, http.StatusOK, list)
}

// serveModel describes one model, or answers 404 listing the valid names.
func (h *Handler) serveModel(w http.ResponseWriter, id string) {
	for _, n := range h.modelNames() {
		if n == id {
			writeJSON(w, http.StatusOK, modelObject{ID: n, Object: "model", Created: h.created, OwnedBy: "switchyard"})
			return
		}
	}
	h.writeError(w, h.unknownModel(id))
}

// serveLiveness answers that the process is up.
func (h *Handler) serveLiveness(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
	}{"ok"})
}

// Readiness is the body of /health/readiness: which deployments can take
// requests now and which are cooling down or at a limit.
type Readiness struct {
	// Status is "ready" when every model group that has deployments has
	// one available, "degraded" when some group has none, "unavailable"
	// when no deployment at all is available, "draining" once
	// Handler.Drain was called (both answered with 503).
	Status string `json:"status"`
	// ModelGroups lists each group, sorted by name.
	ModelGroups []GroupHealth `json:"model_groups"`
}

// GroupHealth is one model group in a Readiness report.
type GroupHealth struct {
	Name string `json:"name"`
	// Available counts the deployments that can take a request now.
	Available int `json:"available"`
	// Deployments lists the group's deployments in configuration order.
	Deployments []DeploymentHealth `json:"deployments"`
}

// DeploymentHealth is one deployment in a Readiness report.
type DeploymentHealth struct {
	ID    string `json:"id"`
	Model string `json:"model"`
	// Status is "ok" or why the deployment cannot take a request now:
	// "cooldown", "breaker_open", "exhausted", "rpm_limit", "tpm_limit",
	// "max_parallel_requests" (deployment.Reason names).
	Status string `json:"status"`
	// CooldownUntil is when a cooldown ends, for Status "cooldown".
	CooldownUntil *time.Time `json:"cooldown_until,omitempty"`
	// CooldownSeconds is the cooldown left, rounded up.
	CooldownSeconds int64 `json:"cooldown_seconds,omitempty"`
	InFlight        int64 `json:"in_flight"`
	// LatencyMS and TTFTMS are the deployment's moving averages, 0 when
	// not measured yet.
	LatencyMS float64 `json:"latency_ms"`
	TTFTMS    float64 `json:"ttft_ms"`
}

// Readiness reports the health of every deployment of the router, as
// /health/readiness serves it.
func (h *Handler) Readiness() Readiness {
	rd := Readiness{Status: "unavailable", ModelGroups: []GroupHealth{}}
	if h.r == nil {
		if h.draining.Load() {
			rd.Status = "draining"
		}
		return rd
	}
	now := h.now()
	idx := map[string]int{}
	for _, name := range h.r.ModelGroups() {
		idx[name] = len(rd.ModelGroups)
		rd.ModelGroups = append(rd.ModelGroups, GroupHealth{Name: name, Deployments: []DeploymentHealth{}})
	}
	anyOK, degraded := false, false
	for _, d := range h.r.Deployments() {
		cfg := d.Config()
		i, ok := idx[cfg.ModelName]
		if !ok {
			continue
		}
		reason := d.Available(now, 0)
		dh := DeploymentHealth{
			ID: d.ID(), Model: cfg.Model, Status: reason.String(), InFlight: d.InFlight(),
			LatencyMS: ms(d.Latency()), TTFTMS: ms(d.TTFT()),
		}
		if reason == deployment.ReasonCooldown {
			until := d.CooldownUntil()
			dh.CooldownUntil = &until
			dh.CooldownSeconds = int64((until.Sub(now) + time.Second - 1) / time.Second)
		}
		g := &rd.ModelGroups[i]
		g.Deployments = append(g.Deployments, dh)
		if reason == deployment.ReasonOK {
			g.Available++
			anyOK = true
		}
	}
	for _, g := range rd.ModelGroups {
		if len(g.Deployments) > 0 && g.Available == 0 {
			degraded = true
		}
	}
	switch {
	case !anyOK:
		rd.Status = "unavailable"
	case degraded:
		rd.Status = "degraded"
	default:
		rd.Status = "ready"
	}
	if h.draining.Load() {
		rd.Status = "draining"
	}
	return rd
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// serveReadiness answers 200 while some deployment can take requests, 503
// when none can or the handler drains.
func (h *Handler) serveReadiness(w http.ResponseWriter) {
	rd := h.Readiness()
	status := http.StatusOK
	if rd.Status == "unavailable" || rd.Status == "draining" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, rd)
}

// writeJSON writes v as a JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "handler: encoding the answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = jsonContentType
	hdr.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
