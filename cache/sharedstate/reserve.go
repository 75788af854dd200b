package sharedstate

import "context"

// Reservation is one request admitted by [Syncer.Reserve]. Call exactly one
// of Done (the request was sent) or Cancel (it was not) exactly once. The
// zero Reservation does nothing.
type Reservation struct {
	d      *depState
	idx    int64
	tokens int64
	up     *Syncer // set when the request was taken from the Store's upstream bucket
}

// Done ends the request and corrects the token count to actualTokens (the
// usage the upstream reported; negative keeps the estimate). The correction
// reaches the Store with the next background push.
func (r Reservation) Done(actualTokens int64) {
	if r.d == nil {
		return
	}
	r.d.mu.Lock()
	r.d.inflight--
	if actualTokens >= 0 && actualTokens != r.tokens {
		u := Usage{Tokens: actualTokens - r.tokens}
		r.d.own.add(r.idx, u)
		r.d.pending.add(r.idx, u)
	}
	r.d.mu.Unlock()
}

// Cancel ends a request that was never sent and gives its reservation back
// (a request taken from the upstream bucket goes back to it at once, in one
// Store call).
func (r Reservation) Cancel() {
	if r.d == nil {
		return
	}
	r.d.mu.Lock()
	r.d.inflight--
	u := Usage{Requests: -1, Tokens: -r.tokens}
	r.d.own.add(r.idx, u)
	r.d.pending.add(r.idx, u)
	r.d.mu.Unlock()
	if r.up != nil {
		r.up.giveUpstream(r.d.id)
	}
}

// Reserve admits one request of an estimated tokens to deployment id if it
// fits the deployment's limits across all replicas (zero limits: no limit,
// the request is only counted), and the upstream's own request budget as
// its rate-limit headers describe it. It returns a *LimitError when it
// does not fit, the context's error when ctx is done, and ErrClosed after
// Close; Store failures never reach the caller: Reserve falls back to local
// state (see Config.Replicas). It waits for the Store at most
// Config.Timeout, and not at all while the Store is known to be down.
//
// The upstream's budget: while the newest rate-limit snapshot of the
// deployment (from any replica: [Syncer.ObserveSnapshot]) says it has
// fewer than a tenth of its requests left (at least 8), Reserve also takes
// the request from a bucket in the Store that follows the newest snapshot
// and counts every replica's requests ([Store.Take]: one more round trip),
// and refuses it with a *LimitError of Limit "upstream" when the bucket is
// empty, saying when the next request fits. Otherwise every replica would
// spend the whole refill its copy of the snapshot projects, and all of
// them would send at the instant one request fits again.
func (s *Syncer) Reserve(ctx context.Context, id string, tokens int64, lim Limits) (Reservation, error) {
	if s.closed.Load() {
		return Reservation{}, ErrClosed
	}
	w := s.window(s.cfg.Now())
	r, err := s.reserveWindow(ctx, id, w, tokens, lim)
	if err != nil || !s.healthy.Load() {
		return r, err
	}
	taken, ok, wait, err := s.takeUpstream(ctx, r.d, w)
	switch {
	case err != nil:
		if ctx.Err() != nil {
			r.Cancel()
			return Reservation{}, ctx.Err()
		}
		s.fail(err) // the deployment's own projection still holds
	case !ok:
		r.Cancel()
		return Reservation{}, &LimitError{ID: id, Limit: "upstream", RetryAfter: wait}
	case taken:
		r.up = s
	}
	return r, nil
}

// reserveWindow is Reserve's admission against the rpm and tpm limits.
func (s *Syncer) reserveWindow(ctx context.Context, id string, w Window, tokens int64, lim Limits) (Reservation, error) {
	tokens = max(tokens, 0)
	i := w.Index()
	d := s.dep(id)
	r := Reservation{d: d, idx: i, tokens: tokens}
	one := Usage{Requests: 1, Tokens: tokens}
	switch {
	case lim.RPM <= 0 && lim.TPM <= 0:
		// Only counted: pushed with the next batch in both modes.
		d.mu.Lock()
		d.admit(i, one, one)
		d.mu.Unlock()
		return r, nil
	case !s.healthy.Load():
	case s.cfg.Mode == SyncEveryRequest:
		ok, u, err := s.tryReserve(ctx, id, w, one, lim)
		if err == nil {
			d.mu.Lock()
			d.setShared(i, u)
			if ok {
				d.admit(i, one, Usage{})
			}
			d.mu.Unlock()
			if !ok {
				return Reservation{}, limitError(id, u, 1, tokens, lim)
			}
			return r, nil
		}
		if ctx.Err() != nil {
			return Reservation{}, ctx.Err()
		}
		s.fail(err)
	default:
		ok, u, err := s.reserveLeased(ctx, d, w, tokens, lim)
		if err == nil {
			if !ok {
				return Reservation{}, limitError(id, u, 1, tokens, lim)
			}
			return r, nil
		}
		if ctx.Err() != nil {
			return Reservation{}, ctx.Err()
		}
		s.fail(err)
	}
	return s.reserveLocal(d, w, tokens, lim)
}

// tryReserve reserves one request in the Store, within the timeout.
func (s *Syncer) tryReserve(ctx context.Context, id string, w Window, one Usage, lim Limits) (bool, Usage, error) {
	if _, local := s.store.(*memoryStore); local { // cannot hang: no timer needed
		return reserve(ctx, s.store, id, w, one, lim)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	return reserve(ctx, s.store, id, w, one, lim)
}

// reserve adds exactly want to id's usage in store if it fits lim: a Lease
// of all or nothing. It returns whether it did and the usage after the
// call (unchanged when ok is false).
func reserve(ctx context.Context, store Store, id string, w Window, want Usage, lim Limits) (ok bool, u Usage, err error) {
	g, u, err := store.Lease(ctx, id, w, want, want, lim)
	return err == nil && g == want, u, err
}

// admit records an admitted request: all of it as this replica's own
// usage, push of it still to be pushed to the Store. d.mu must be held.
func (d *depState) admit(i int64, all, push Usage) {
	d.own.add(i, all)
	d.pending.add(i, push)
	d.inflight++
	if all.Requests > 0 {
		// Running average over roughly the last 16 requests.
		d.avgTok += (all.Tokens - d.avgTok) / 16
		if d.avgTok == 0 && all.Tokens > 0 {
			d.avgTok = all.Tokens
		}
	}
}

// setShared records the shared usage seen in window i. d.mu must be held.
func (d *depState) setShared(i int64, u Usage) {
	if i >= d.sharedAt {
		d.shared, d.sharedAt = u, i
	}
}

// rollLease gives back a lease from an earlier window. d.mu must be held.
func (d *depState) rollLease(i int64) {
	if d.leaseIdx != i {
		if d.lease != (Usage{}) {
			d.pending.add(d.leaseIdx, Usage{Requests: -d.lease.Requests, Tokens: -d.lease.Tokens})
		}
		d.lease, d.leaseIdx = Usage{}, i
	}
}

// split splits a request into the part leased from the Store (the
// dimensions with a limit) and the part only counted.
func split(one Usage, lim Limits) (leased, counted Usage) {
	if lim.RPM > 0 {
		leased.Requests = one.Requests
	} else {
		counted.Requests = one.Requests
	}
	if lim.TPM > 0 {
		leased.Tokens = one.Tokens
	} else {
		counted.Tokens = one.Tokens
	}
	return leased, counted
}

func covers(have, need Usage) bool {
	return have.Requests >= need.Requests && have.Tokens >= need.Tokens
}

// takeLease spends need from the lease if it covers it. d.mu must be held.
func (d *depState) takeLease(i int64, one, need, counted Usage) bool {
	d.rollLease(i)
	if !covers(d.lease, need) {
		return false
	}
	d.lease.Requests -= need.Requests
	d.lease.Tokens -= need.Tokens
	d.admit(i, one, counted)
	return true
}

// reserveLeased is SyncBatched's reservation: from the local lease, or by
// leasing more from the Store.
func (s *Syncer) reserveLeased(ctx context.Context, d *depState, w Window, tokens int64, lim Limits) (bool, Usage, error) {
	i := w.Index()
	one := Usage{Requests: 1, Tokens: tokens}
	need, counted := split(one, lim)
	d.mu.Lock()
	ok := d.takeLease(i, one, need, counted)
	d.mu.Unlock()
	if ok {
		return true, Usage{}, nil
	}

	d.refill.Lock()
	defer d.refill.Unlock()
	d.mu.Lock()
	if d.takeLease(i, one, need, counted) { // another goroutine refilled
		d.mu.Unlock()
		return true, Usage{}, nil
	}
	// Lease sizing: about one refill per interval, within the cap.
	capR := max(int64(float64(lim.RPM)*s.cfg.LeaseShare), 1)
	if !d.leaseAt.IsZero() && w.At.Sub(d.leaseAt) < max(s.cfg.interval, defaultInterval) {
		d.chunk = min(d.chunk*2, capR)
	} else {
		d.chunk = max(d.chunk/2, 1)
	}
	d.chunk = min(d.chunk, capR)
	missing := Usage{Requests: max(need.Requests-d.lease.Requests, 0), Tokens: max(need.Tokens-d.lease.Tokens, 0)}
	want := Usage{}
	if lim.RPM > 0 {
		want.Requests = max(d.chunk, missing.Requests)
	}
	if lim.TPM > 0 {
		capT := max(int64(float64(lim.TPM)*s.cfg.LeaseShare), 1)
		want.Tokens = max(min(d.chunk*max(d.avgTok, tokens), capT), missing.Tokens)
	}
	d.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	g, u, err := s.store.Lease(ctx, d.id, w, want, missing, lim)
	cancel()
	if err != nil {
		return false, Usage{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.setShared(i, u)
	d.leaseAt = w.At
	d.rollLease(i)
	d.lease.Requests += g.Requests
	d.lease.Tokens += g.Tokens
	if !d.takeLease(i, one, need, counted) {
		return false, u, nil
	}
	return true, u, nil
}

// reserveLocal admits from this replica's own counts while the Store is
// unreachable, against limit/replicas.
func (s *Syncer) reserveLocal(d *depState, w Window, tokens int64, lim Limits) (Reservation, error) {
	i := w.Index()
	one := Usage{Requests: 1, Tokens: tokens}
	need, counted := split(one, lim)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.takeLease(i, one, need, counted) { // still valid budget
		return Reservation{d: d, idx: i, tokens: tokens}, nil
	}
	local := Limits{RPM: ceilDiv(lim.RPM, s.cfg.replicas), TPM: ceilDiv(lim.TPM, s.cfg.replicas)}
	u := d.own.estimate(w)
	if g := grant(u, one, local); g != one {
		return Reservation{}, limitError(d.id, u, 1, tokens, local)
	}
	d.admit(i, one, one)
	return Reservation{d: d, idx: i, tokens: tokens}, nil
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
