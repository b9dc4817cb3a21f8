package admin

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// Prefix is where the API is mounted on the connector's HTTP port.
const Prefix = "/admin/v1/"

// Handler serves the API for f. token returns the token requests must carry
// (read at each request, so a rotated token file is used at once); an
// empty token refuses every request.
func Handler(f Fleet, token func() (string, error), log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	s := &server{f: f, log: log}
	mux.HandleFunc("GET "+Prefix+"operators", s.list)
	mux.HandleFunc("POST "+Prefix+"operators/{id}/pause", s.pause)
	mux.HandleFunc("POST "+Prefix+"operators/{id}/resume", s.resume)
	mux.HandleFunc("POST "+Prefix+"operators/{id}/rebind", s.rebind)
	mux.HandleFunc("POST "+Prefix+"operators/{id}/failback", s.failBack)
	mux.HandleFunc("POST "+Prefix+"drain", s.drain)
	mux.HandleFunc("POST "+Prefix+"undrain", s.undrain)
	return authorized(mux, token, log)
}

// authorized lets through requests bearing the token.
func authorized(next http.Handler, token func() (string, error), log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want, err := token()
		if err != nil {
			log.Error("admin API: cannot read the token: refusing every request", "err", err)
			writeError(w, http.StatusServiceUnavailable, errors.New("the admin token cannot be read on this replica"))
			return
		}
		// The scheme is case-insensitive (RFC 9110): "bearer" too.
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		ok = ok && strings.EqualFold(scheme, "Bearer")
		if want == "" || !ok || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			writeError(w, http.StatusUnauthorized, errors.New("missing or wrong admin token (Authorization: Bearer ...)"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

type server struct {
	f   Fleet
	log *slog.Logger
}

func (s *server) list(w http.ResponseWriter, r *http.Request) {
	l, err := s.f.List(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// actionBody is what a pause may carry.
type actionBody struct {
	Reason string `json:"reason"`
	By     string `json:"by"`
}

func (s *server) pause(w http.ResponseWriter, r *http.Request) {
	var b actionBody
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&b); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, fmt.Errorf("body: want {\"reason\": \"...\", \"by\": \"...\"}: %w", err))
		return
	}
	id := r.PathValue("id")
	if err := s.f.Pause(r.Context(), id, b.Reason, b.By); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "operator "+id+" paused: its commands wait in JetStream; its binds stay up", "reason", b.Reason, "by", b.By)
}

func (s *server) resume(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	was, err := s.f.Resume(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg := "operator " + id + " resumed"
	if !was {
		msg = "operator " + id + " was not paused"
	}
	s.done(w, r, msg)
}

func (s *server) rebind(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.f.Rebind(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "operator "+id+": binds renewed (in-flight submits finished first)")
}

func (s *server) failBack(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	moved, err := s.f.FailBack(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg := "operator " + id + ": binds moving back to the primary endpoint"
	if !moved {
		msg = "operator " + id + ": every bind is on a primary endpoint already"
	}
	s.done(w, r, msg)
}

func (s *server) drain(w http.ResponseWriter, r *http.Request) {
	if err := s.f.Drain(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "replica drained: its operators finished what they had in flight and were left to the other replicas")
}

func (s *server) undrain(w http.ResponseWriter, r *http.Request) {
	if err := s.f.Undrain(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, "replica back: it takes operators again")
}

// done answers an action that succeeded, and logs it (who asked: the
// remote address; the token never).
func (s *server) done(w http.ResponseWriter, r *http.Request, msg string, attrs ...any) {
	s.log.Info("admin API: "+msg, append([]any{"remote", r.RemoteAddr}, attrs...)...)
	writeJSON(w, http.StatusOK, Result{OK: true, Message: msg})
}

func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrUnknownOperator):
		code = http.StatusNotFound
	case errors.Is(err, ErrNotOwner):
		code = http.StatusConflict
	case r.Context().Err() != nil:
		code = http.StatusServiceUnavailable
	}
	if code == http.StatusInternalServerError {
		s.log.Error("admin API: request failed", "path", r.URL.Path, "err", err)
	}
	writeError(w, code, err)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, Result{OK: false, Message: err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
