package litellmconfig

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-go/switchyard/strategy"
)

// envPrefix marks a value read from the environment, as LiteLLM writes it.
const envPrefix = "os.environ/"

// parser holds the state of one Parse.
type parser struct {
	file   string
	lookup func(string) (string, bool)
	// env holds environment_variables from the file; they win over lookup.
	env      map[string]string
	cfg      *Config
	warnings map[string]int // setting -> index in cfg.Warnings
	// seen records which settings were set, for litellm_settings vs
	// router_settings precedence: setting name -> line.
	seen map[string]int
	// nodes counts the values generic has built.
	nodes int
	// argsNode is router_settings.routing_strategy_args, for warnings.
	argsNode *yaml.Node
	// after runs once every section is read.
	after func() error
}

// Parse translates a LiteLLM config.yaml held in data.
func Parse(data []byte, opts ...Option) (*Config, error) {
	p := &parser{lookup: os.LookupEnv, cfg: &Config{src: map[string]source{}}, warnings: map[string]int{}, seen: map[string]int{}}
	for _, o := range opts {
		if o != nil {
			o(p)
		}
	}
	p.cfg.file = p.file
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, p.yamlError(data, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{File: p.file, Msg: "the file is empty: expected a model_list"}
	}
	if err := p.top(doc.Content[0]); err != nil {
		return nil, err
	}
	p.pruneStrategyArgs()
	if err := p.cfg.validate(); err != nil {
		return nil, err
	}
	return p.cfg, nil
}

// pruneStrategyArgs drops the routing_strategy_args the chosen strategy does
// not take, with a warning each: LiteLLM files often keep arguments (such as
// ttl) meant for another strategy, and LiteLLM ignores them. Arguments of a
// wrong type or value are left for the router to reject.
func (p *parser) pruneStrategyArgs() {
	s := &p.cfg.Router.Settings
	for range len(s.RoutingStrategyArgs) {
		_, err := strategy.New(s.RoutingStrategy, s.RoutingStrategyArgs)
		var ae *strategy.ArgError
		if !errors.As(err, &ae) || !strings.HasPrefix(ae.Reason, "unknown argument") {
			return
		}
		delete(s.RoutingStrategyArgs, ae.Arg)
		name := s.RoutingStrategy
		if name == "" {
			name = "simple-shuffle"
		}
		n := p.argsNode
		if n == nil {
			n = &yaml.Node{}
		}
		p.warn(n, "router_settings.routing_strategy_args."+ae.Arg, "not an argument of "+name+"; ignored")
	}
}

// yamlLine matches the line number in yaml.v3's messages.
var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlError turns a yaml.v3 syntax error into an *Error with the line of
// the problem.
func (p *parser) yamlError(data []byte, err error) error {
	e := &Error{File: p.file, Msg: err.Error(), Err: err}
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return e
	}
	e.Line, _ = strconv.Atoi(m[1])
	e.Msg = "malformed YAML: " + m[2]
	if line := problemLine(data, m[2]); line > 0 {
		e.Line = line
	}
	return e
}

// problemLine finds the line where a syntax error is. yaml.v3 reports the
// line where the enclosing block starts (or none at all), which for a
// mis-indented key deep in model_list is line 1. The problem is on the
// first line whose prefix of the file fails with the same message: a
// prefix failing with another message (an unclosed flow list that a later
// line closes) does not count. 0 when not found.
func problemLine(data []byte, msg string) int {
	const maxLines = 5000 // bounds the work on a huge file
	var doc yaml.Node
	end, line := 0, 0
	for end < len(data) && line < maxLines {
		i := bytes.IndexByte(data[end:], '\n')
		if i < 0 {
			end = len(data)
		} else {
			end += i + 1
		}
		line++
		err := yaml.Unmarshal(data[:end], &doc)
		if err == nil {
			continue
		}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil && m[2] == msg {
			return line
		}
	}
	return 0
}

// errAt makes an *Error for node n at setting path.
func (p *parser) errAt(n *yaml.Node, path, format string, args ...any) *Error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: p.file, Line: line, Setting: path, Msg: fmt.Sprintf(format, args...)}
}

// at records that the file wrote field, a field of router.Config named as
// router.ConfigError names it, as setting, on n's line.
func (p *parser) at(field, setting string, n *yaml.Node) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.cfg.src[field] = source{setting: setting, line: line}
}

// forget drops what was recorded of field's entries ("field[...]"), when
// a later section gives field anew.
func (p *parser) forget(field string) {
	for k := range p.cfg.src {
		if strings.HasPrefix(k, field+"[") {
			delete(p.cfg.src, k)
		}
	}
}

// warn records an unsupported setting once, counting repeats. path may
// hold "[]" for list indices so that entries share one warning.
func (p *parser) warn(n *yaml.Node, path, msg string) {
	if i, ok := p.warnings[path]; ok {
		p.cfg.Warnings[i].Count++
		return
	}
	p.warnings[path] = len(p.cfg.Warnings)
	p.cfg.Warnings = append(p.cfg.Warnings, Warning{Setting: path, Line: n.Line, Count: 1, Msg: msg})
}

// resolve follows aliases (*anchor) to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is absent or an explicit null (~, null, empty).
func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// kindName describes what n is, for messages.
func kindName(n *yaml.Node) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// each calls f for every key of mapping n, in order. Merge keys ("<<:
// *anchor") are expanded, and a key given twice is an error: YAML readers
// disagree on which one wins.
func (p *parser) each(n *yaml.Node, path string, f func(key string, k, v *yaml.Node) error) error {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.errAt(n, path, "expected a mapping, got %s", kindName(n))
	}
	seen := map[string]int{}
	active := map[*yaml.Node]bool{n: true} // mappings being walked: a merge cycle
	var walk func(m *yaml.Node, merged bool) error
	walk = func(m *yaml.Node, merged bool) error {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				src := resolve(v)
				srcs := []*yaml.Node{src}
				if src.Kind == yaml.SequenceNode {
					srcs = src.Content
				}
				for _, s := range srcs {
					s = resolve(s)
					if s.Kind != yaml.MappingNode {
						return p.errAt(v, path, "a merge key (<<) needs a mapping, got %s", kindName(s))
					}
					if active[s] || len(active) > maxDepth {
						return p.errAt(v, path, "a merge key (<<) refers to the mapping it is in")
					}
					active[s] = true
					err := walk(s, true)
					delete(active, s)
					if err != nil {
						return err
					}
				}
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return p.errAt(k, path, "expected a name as key, got %s", kindName(k))
			}
			if line, dup := seen[k.Value]; dup {
				if merged {
					continue // keys written in the mapping override merged ones
				}
				return p.errAt(k, join(path, k.Value), "given twice (first at line %d)", line)
			}
			seen[k.Value] = k.Line
			if err := f(k.Value, k, v); err != nil {
				return err
			}
		}
		return nil
	}
	// Keys written in the mapping itself win over merged ones: visit them
	// first by walking the mapping without its merge keys, then the rest.
	own := &yaml.Node{Kind: yaml.MappingNode}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].ShortTag() == "!!merge" {
			merges = append(merges, n.Content[i], n.Content[i+1])
			continue
		}
		own.Content = append(own.Content, n.Content[i], n.Content[i+1])
	}
	if err := walk(own, false); err != nil {
		return err
	}
	if len(merges) > 0 {
		return walk(&yaml.Node{Kind: yaml.MappingNode, Content: merges}, true)
	}
	return nil
}

// join appends a key to a setting path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// scalar returns n's text with "os.environ/NAME" read from the
// environment. ok is false for null.
func (p *parser) scalar(n *yaml.Node, path string) (s string, ok bool, err error) {
	n = resolve(n)
	if isNull(n) {
		return "", false, nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", false, p.errAt(n, path, "expected a single value, got %s", kindName(n))
	}
	v := n.Value
	if name, isEnv := strings.CutPrefix(v, envPrefix); isEnv {
		name = strings.TrimSpace(name)
		if name == "" {
			return "", false, p.errAt(n, path, "%q names no environment variable", v)
		}
		val, found := p.env[name]
		if !found {
			val, found = p.lookup(name)
		}
		if !found {
			return "", false, p.errAt(n, path, "environment variable %s is not set", name)
		}
		return val, true, nil
	}
	return v, true, nil
}

// str reads a string.
func (p *parser) str(n *yaml.Node, path string) (string, error) {
	s, _, err := p.scalar(n, path)
	return s, err
}

// integer reads a whole number ("100", 1e6 and 100.0 are accepted).
func (p *parser) integer(n *yaml.Node, path string) (int, error) {
	s, ok, err := p.scalar(n, path)
	if err != nil || !ok {
		return 0, err
	}
	s = strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	if i, err := strconv.Atoi(s); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, p.errAt(n, path, "expected an integer, got %q", s)
	}
	return int(f), nil
}

// number reads a floating-point number.
func (p *parser) number(n *yaml.Node, path string) (float64, error) {
	s, ok, err := p.scalar(n, path)
	if err != nil || !ok {
		return 0, err
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, p.errAt(n, path, "expected a number, got %q", s)
	}
	return f, nil
}

// boolean reads true/false (also True, yes, on, 1 and their opposites).
func (p *parser) boolean(n *yaml.Node, path string) (bool, error) {
	s, ok, err := p.scalar(n, path)
	if err != nil || !ok {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, p.errAt(n, path, "expected true or false, got %q", s)
}

// seconds reads a duration written as seconds (600, 0.5) or as a Go
// duration ("30s", "2m").
func (p *parser) seconds(n *yaml.Node, path string) (time.Duration, error) {
	s, ok, err := p.scalar(n, path)
	if err != nil || !ok {
		return 0, err
	}
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || math.IsNaN(f) || f > float64(math.MaxInt64)/float64(time.Second) {
			return 0, p.errAt(n, path, "expected a duration in seconds, got %q", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, p.errAt(n, path, "expected a duration in seconds (or like \"30s\"), got %q", s)
	}
	return d, nil
}

// strList reads a list of strings; a single string is a list of one.
func (p *parser) strList(n *yaml.Node, path string) ([]string, error) {
	n = resolve(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		s, err := p.str(n, path)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errAt(n, path, "expected a list of names, got %s", kindName(n))
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		if resolve(item).Kind != yaml.ScalarNode {
			return nil, p.errAt(item, ip, "expected a name, got %s", kindName(item))
		}
		s, err := p.str(item, ip)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// maxDepth bounds the nesting of generic values and merge chains, and
// maxNodes the values generic builds, so that an alias that refers to
// itself or a "billion laughs" document fails instead of exhausting the
// stack or memory.
const (
	maxDepth = 64
	maxNodes = 100000
)

// generic decodes n into plain Go values (for routing_strategy_args),
// reading "os.environ/" scalars.
func (p *parser) generic(n *yaml.Node, path string) (any, error) {
	return p.genericAt(n, path, 0)
}

func (p *parser) genericAt(n *yaml.Node, path string, depth int) (any, error) {
	n = resolve(n)
	p.nodes++
	if depth > maxDepth || p.nodes > maxNodes {
		return nil, p.errAt(n, path, "nested too deep, or an alias refers to itself")
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		err := p.each(n, path, func(key string, _, v *yaml.Node) error {
			val, err := p.genericAt(v, join(path, key), depth+1)
			m[key] = val
			return err
		})
		return m, err
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			v, err := p.genericAt(item, fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	if isNull(n) {
		return nil, nil
	}
	if strings.HasPrefix(n.Value, envPrefix) {
		s, _, err := p.scalar(n, path)
		if err != nil {
			return nil, err
		}
		// Type the variable's text as YAML would have: "10" is a number.
		n = &yaml.Node{Kind: yaml.ScalarNode, Value: s, Line: n.Line}
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, p.errAt(n, path, "%v", err)
	}
	return v, nil
}
