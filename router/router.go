package router

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/switchyard-go/switchyard/deployment"
	"github.com/switchyard-go/switchyard/provider"
	"github.com/switchyard-go/switchyard/provider/openai"
	"github.com/switchyard-go/switchyard/strategy"
)

// Router sends calls for a model group to one of its deployments, retrying
// and falling back as configured. It is safe for concurrent use; Do,
// Stream and the deployment updates may run at the same time.
//
// The set of deployments is an immutable snapshot behind an atomic pointer:
// a call loads it once and keeps using the deployments it found, so
// AddDeployment, RemoveDeployment and UpdateDeployment never disturb calls
// in flight.
type Router struct {
	// immutable after New
	set     *settings
	aliases map[string]string // alias -> model group
	strat   strategy.Strategy
	clock   Clock
	factory ClientFactory
	hooks   Hooks
	log     *slog.Logger
	jitter  *jitter
	// shared is nil unless WithSharedState; rc unless WithResponseCache.
	shared *shared
	rc     *respCache
	// referenced are group names that fallbacks and aliases point at; they
	// stay known (possibly empty) when their last deployment is removed.
	referenced []string

	state  atomic.Pointer[state]
	closed atomic.Bool
	mu     sync.Mutex // serializes snapshot rebuilds; never held during calls

	causes sync.Map // deployment ID -> *CooldownCause, its last announced cooldown's

	cands sync.Pool // of *[]*deployment.Deployment, the pick buffers
	calls sync.Pool // of *call
}

// state is an immutable snapshot of the router's deployments.
type state struct {
	deps   []*deployment.Deployment // in configuration order
	byID   map[string]*deployment.Deployment
	groups map[string]*group
	// known lists the model groups and aliases, sorted, for an
	// UnknownModelError (made once per snapshot, not per bad call).
	known []string
}

// group is one model group in a snapshot.
type group struct {
	name string
	deps []*deployment.Deployment
	// hasDefault: some deployment is tagged "default"; tagged: some
	// deployment has tags at all.
	hasDefault, tagged bool
	// windowKnown: some deployment knows its context window, so pre-call
	// checks need the prompt's token count.
	windowKnown bool
	// pool is deps prepared for sampling (large groups, see pick.go).
	pool *strategy.Pool
}

// New makes a Router from cfg. It fails with a *ConfigError naming the field
// when cfg is invalid: no deployments, a duplicate ID, a negative limit, an
// alias cycle, a fallback to an unknown group, an unknown strategy.
func New(cfg Config, opts ...Option) (*Router, error) {
	r := &Router{clock: wallClock{}, log: slog.Default()}
	for _, o := range opts {
		if o != nil {
			o(r)
		}
	}
	if r.factory == nil {
		r.factory = r.openAIClient
	}
	if r.jitter == nil {
		r.jitter = newJitter(rand.Uint64())
	}
	r.cands.New = func() any {
		s := make([]*deployment.Deployment, 0, 16)
		return &s
	}
	r.calls.New = func() any { return new(call) }

	if len(cfg.Deployments) == 0 {
		return nil, configErr("Deployments", "no deployments")
	}
	groups := map[string]bool{}
	ids := map[string]int{}
	for i := range cfg.Deployments {
		c := &cfg.Deployments[i]
		field := fmt.Sprintf("Deployments[%d]", i)
		if err := checkDeployment(field, c); err != nil {
			return nil, err
		}
		id := c.ID
		if id == "" {
			id = deployment.DefaultID(*c)
		}
		if j, dup := ids[id]; dup {
			return nil, configErr(field+".ID", "duplicate id %q (also Deployments[%d]); set ID to tell them apart", id, j)
		}
		ids[id] = i
		groups[c.ModelName] = true
	}
	aliases, err := resolveAliases(cfg.Aliases, groups)
	if err != nil {
		return nil, err
	}
	r.aliases = aliases
	if r.set, err = validateSettings(cfg.Settings, groups, aliases); err != nil {
		return nil, err
	}
	r.referenced = referencedGroups(r.set, aliases)
	if err := r.setStrategy(cfg.Settings); err != nil {
		return nil, err
	}

	deps := make([]*deployment.Deployment, 0, len(cfg.Deployments))
	for i, c := range cfg.Deployments {
		if c.ID == "" {
			c.ID = deployment.DefaultID(c)
		}
		d, err := r.newDeployment(c)
		if err != nil {
			return nil, &ConfigError{Field: fmt.Sprintf("Deployments[%d]", i), Msg: "cannot make deployment " + c.ID, Err: err}
		}
		deps = append(deps, d)
	}
	r.state.Store(r.buildState(deps))
	r.startShared()
	return r, nil
}

func referencedGroups(s *settings, aliases map[string]string) []string {
	var names []string
	add := func(list ...string) {
		for _, n := range list {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	for _, m := range []map[string][]string{s.fallbacks, s.cwFallbacks, s.cpFallbacks} {
		for k, list := range m {
			add(k)
			add(list...)
		}
	}
	add(s.defaultFallbacks...)
	for _, g := range aliases {
		add(g)
	}
	return names
}

// newDeployment makes a deployment with a client from the factory.
func (r *Router) newDeployment(c deployment.Config) (*deployment.Deployment, error) {
	client, err := r.factory(c)
	if err != nil {
		return nil, err
	}
	if client == nil {
		return nil, errors.New("router: client factory returned no client")
	}
	return deployment.New(c, client, r.set.Deployment)
}

// setStrategy makes the strategy Settings.RoutingStrategy names, unless
// WithStrategy gave one (whose name Settings must then not contradict).
func (r *Router) setStrategy(s Settings) error {
	if r.strat != nil {
		if s.RoutingStrategy != "" && s.RoutingStrategy != r.strat.Name() {
			return configErr("Settings.RoutingStrategy", "%q, but WithStrategy gave %q", s.RoutingStrategy, r.strat.Name())
		}
		return nil
	}
	st, err := strategy.New(s.RoutingStrategy, s.RoutingStrategyArgs)
	if err != nil {
		return &ConfigError{Field: "Settings.RoutingStrategy", Msg: "invalid", Err: err}
	}
	r.strat = st
	return nil
}

// buildState makes a snapshot of deps.
func (r *Router) buildState(deps []*deployment.Deployment) *state {
	s := &state{
		deps:   deps,
		byID:   make(map[string]*deployment.Deployment, len(deps)),
		groups: make(map[string]*group),
	}
	for _, d := range deps {
		s.byID[d.ID()] = d
		cfg := d.Config()
		g := s.groups[cfg.ModelName]
		if g == nil {
			g = &group{name: cfg.ModelName}
			s.groups[cfg.ModelName] = g
		}
		g.deps = append(g.deps, d)
		if len(cfg.Tags) > 0 {
			g.tagged = true
			if slices.Contains(cfg.Tags, "default") {
				g.hasDefault = true
			}
		}
		if cfg.Info.MaxInputTokens > 0 {
			g.windowKnown = true
		}
	}
	for _, g := range s.groups {
		g.pool = strategy.NewPool(g.deps)
	}
	for _, name := range r.referenced {
		if s.groups[name] == nil {
			s.groups[name] = &group{name: name}
		}
	}
	s.known = make([]string, 0, len(s.groups)+len(r.aliases))
	for name := range s.groups {
		s.known = append(s.known, name)
	}
	for alias := range r.aliases {
		s.known = append(s.known, alias)
	}
	slices.Sort(s.known)
	return s
}

// lookup returns the group for a model group name or alias, nil when
// unknown.
func (s *state) lookup(aliases map[string]string, model string) *group {
	if g := s.groups[model]; g != nil {
		return g
	}
	if name, ok := aliases[model]; ok {
		return s.groups[name]
	}
	return nil
}

// AddDeployment adds a deployment to a live router. Its model group is made
// when it is new. Calls in flight are not disturbed.
func (r *Router) AddDeployment(cfg deployment.Config) error {
	if err := checkDeployment("Deployment", &cfg); err != nil {
		return err
	}
	if _, ok := r.aliases[cfg.ModelName]; ok {
		return configErr("Deployment.ModelName", "%q is an alias", cfg.ModelName)
	}
	if cfg.ID == "" {
		cfg.ID = deployment.DefaultID(cfg)
	}
	if r.state.Load().byID[cfg.ID] != nil {
		return configErr("Deployment.ID", "duplicate id %q", cfg.ID)
	}
	d, err := r.newDeployment(cfg) // outside the lock: a factory may be slow
	if err != nil {
		return fmt.Errorf("router: add deployment %s: %w", cfg.ID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.state.Load()
	if cur.byID[cfg.ID] != nil {
		return configErr("Deployment.ID", "duplicate id %q", cfg.ID)
	}
	deps := append(slices.Clip(cur.deps), d)
	r.state.Store(r.buildState(deps))
	r.shared.adopt(d)
	return nil
}

// RemoveDeployment takes the deployment with the given ID out of rotation.
// Calls already using it finish normally. A model group left without
// deployments answers with a *NoDeploymentError (or ErrUnknownModel when
// nothing refers to it any more).
func (r *Router) RemoveDeployment(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.state.Load()
	i := slices.IndexFunc(cur.deps, func(d *deployment.Deployment) bool { return d.ID() == id })
	if i < 0 {
		return fmt.Errorf("router: remove deployment %q: %w", id, ErrUnknownDeployment)
	}
	deps := slices.Delete(slices.Clone(cur.deps), i, i+1)
	r.state.Store(r.buildState(deps))
	r.shared.forget(id)
	return nil
}

// UpdateDeployment replaces the deployment whose ID is cfg.ID with a new
// one made from cfg (with a new client and fresh health state). Calls
// already using the old one finish on it.
func (r *Router) UpdateDeployment(cfg deployment.Config) error {
	if cfg.ID == "" {
		return configErr("Deployment.ID", "empty id: UpdateDeployment needs the id of the deployment to replace")
	}
	if err := checkDeployment("Deployment", &cfg); err != nil {
		return err
	}
	if _, ok := r.aliases[cfg.ModelName]; ok {
		return configErr("Deployment.ModelName", "%q is an alias", cfg.ModelName)
	}
	if r.state.Load().byID[cfg.ID] == nil {
		return fmt.Errorf("router: update deployment %q: %w", cfg.ID, ErrUnknownDeployment)
	}
	d, err := r.newDeployment(cfg)
	if err != nil {
		return fmt.Errorf("router: update deployment %s: %w", cfg.ID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.state.Load()
	i := slices.IndexFunc(cur.deps, func(d *deployment.Deployment) bool { return d.ID() == cfg.ID })
	if i < 0 {
		return fmt.Errorf("router: update deployment %q: %w", cfg.ID, ErrUnknownDeployment)
	}
	deps := slices.Clone(cur.deps)
	deps[i] = d
	r.state.Store(r.buildState(deps))
	r.shared.adopt(d)
	return nil
}

// Deployments returns the current deployments in configuration order. The
// slice is the caller's; the deployments are live and shared.
func (r *Router) Deployments() []*deployment.Deployment {
	return slices.Clone(r.state.Load().deps)
}

// Deployment returns the deployment with the given ID, nil when there is
// none.
func (r *Router) Deployment(id string) *deployment.Deployment {
	return r.state.Load().byID[id]
}

// ModelGroups returns the names of the model groups, sorted.
func (r *Router) ModelGroups() []string {
	return sortedKeys(r.state.Load().groups)
}

// Aliases returns a copy of the alias table, each alias mapped to the model
// group it resolves to.
func (r *Router) Aliases() map[string]string {
	return maps.Clone(r.aliases)
}

// Close stops the router: later calls fail with ErrClosed. Calls and
// streams in flight finish normally. Close is safe to call more than once.
// With WithSharedState it also closes the Syncer (unused leases go back to
// the store) and returns its error, the first time.
func (r *Router) Close() error {
	r.closed.Store(true)
	return r.shared.close()
}

// Strategy returns the routing strategy in use.
func (r *Router) Strategy() strategy.Strategy { return r.strat }

// Clock returns the router's clock (see WithClock), for what works beside
// the router and must agree with it, such as a handler's metrics.
func (r *Router) Clock() Clock { return r.clock }

// jitter is a locked random source for retry delays (used only when a
// retry has to wait, so the lock is off the hot path).
type jitter struct {
	mu  sync.Mutex
	rnd *rand.Rand
}

func newJitter(seed uint64) *jitter {
	return &jitter{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// float64 returns a number in [0, 1).
func (j *jitter) float64() float64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.rnd.Float64()
}

// openAIClient is the default ClientFactory: a provider/openai client for
// a deployment (OpenAI, Azure OpenAI or any OpenAI-compatible server, as
// its Model says) on the router's clock.
func (r *Router) openAIClient(cfg deployment.Config) (provider.Client, error) {
	c, err := openai.New(openai.Config{
		Model:         cfg.Model,
		APIKey:        cfg.APIKey,
		BaseURL:       cfg.BaseURL,
		Organization:  cfg.Organization,
		Project:       cfg.Project,
		APIVersion:    cfg.APIVersion,
		ExtraHeaders:  cfg.ExtraHeaders,
		Timeout:       cfg.Timeout,
		StreamTimeout: cfg.StreamTimeout,
		HTTPClient:    cfg.HTTPClient,
		DeploymentID:  cfg.ID,
		Now:           r.clock.Now,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
