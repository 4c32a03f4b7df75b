// Package sqlfile renders the SQL statements a package keeps in embedded .sql files.
//
// Every statement trackwatch sends to ClickHouse lives in a .sql file beside the Go code
// that runs it, embedded with go:embed. A file holds one or more named statements as
// text/template blocks:
//
//	{{define "latest_runs"}}
//	SELECT detector, max(as_of) AS as_of FROM {{.DB}}.alert_runs
//	WHERE has({detectors:Array(String)}, detector) GROUP BY detector
//	{{end}}
//
// The template fills in only what cannot be a query parameter: the database (an
// identifier, quoted by Ident), the names of a session's temporary tables, and
// fragments that another statement shares. Values always travel as ClickHouse query
// parameters ({name:Type}), never through the template.
package sqlfile

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"text/template"
)

// Ident is a ClickHouse identifier (a database or table name). A template prints it
// quoted in backticks, with any backtick in it doubled, so a name is never read as SQL.
type Ident string

// String is the quoted identifier.
func (i Ident) String() string { return "`" + strings.ReplaceAll(string(i), "`", "``") + "`" }

// Data is what a statement is rendered with: DB (an Ident) and whatever else its
// template names.
type Data map[string]any

// DB is the Data of a statement that names only the database db.
func DB(db string) Data { return Data{"DB": Ident(db)} }

// With returns a copy of d with key set to v.
func (d Data) With(key string, v any) Data {
	out := make(Data, len(d)+1)
	for k, x := range d {
		out[k] = x
	}
	out[key] = v
	return out
}

// Set is the statements of one package's embedded files.
type Set struct {
	t     *template.Template
	cache sync.Map // cacheKey -> string: statements rendered with DB alone
}

type cacheKey struct{ name, db string }

// Parse reads every file matching pattern (for example "sql/*.sql") in files, with the
// template functions funcs (nil for none). A file's text outside {{define}} blocks is
// ignored; each block is a statement or a fragment other statements include with
// {{template "name" .}}. It fails on a syntax error or when no file matches.
func Parse(files fs.FS, pattern string, funcs template.FuncMap) (*Set, error) {
	names, err := fs.Glob(files, pattern)
	if err != nil {
		return nil, fmt.Errorf("sql files %s: %w", pattern, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("sql files %s: none", pattern)
	}
	t := template.New("").Option("missingkey=error")
	if funcs != nil {
		t = t.Funcs(funcs)
	}
	if t, err = t.ParseFS(files, pattern); err != nil {
		return nil, fmt.Errorf("sql files %s: %w", pattern, err)
	}
	return &Set{t: t}, nil
}

// MustParse is Parse for a package's own embedded files, which its tests read: it panics
// on an error, as regexp.MustCompile does.
func MustParse(files fs.FS, pattern string, funcs template.FuncMap) *Set {
	s, err := Parse(files, pattern, funcs)
	if err != nil {
		panic(err)
	}
	return s
}

// Render returns statement name rendered with data, trimmed.
func (s *Set) Render(name string, data any) (string, error) {
	t := s.t.Lookup(name)
	if t == nil {
		return "", fmt.Errorf("sql: no statement %q (have %s)", name, strings.Join(s.Names(), ", "))
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("sql %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// Text returns statement name rendered with data. The statements are the package's own
// and its tests render them, so a failure is a programming error: Text panics on one.
func (s *Set) Text(name string, data any) string {
	q, err := s.Render(name, data)
	if err != nil {
		panic(err)
	}
	return q
}

// In returns statement name for database db (a statement whose template names only
// .DB), rendered once and kept: the form for statements run often.
func (s *Set) In(db, name string) string {
	k := cacheKey{name, db}
	if q, ok := s.cache.Load(k); ok {
		return q.(string)
	}
	q := s.Text(name, DB(db))
	s.cache.Store(k, q)
	return q
}

// Names are the statements and fragments of the set, sorted.
func (s *Set) Names() []string {
	var out []string
	for _, t := range s.t.Templates() {
		if t.Name() != "" && !strings.HasSuffix(t.Name(), ".sql") {
			out = append(out, t.Name())
		}
	}
	sort.Strings(out)
	return out
}

// StripComments drops comment lines and trailing " -- " comments outside string
// literals' lines: a fragment joined into a longer statement must not comment out what
// follows it on its line.
func StripComments(sql string) string {
	var lines []string
	for _, l := range strings.Split(sql, "\n") {
		if i := strings.Index(l, " -- "); i >= 0 && !strings.Contains(l[:i], "'") {
			l = l[:i]
		}
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
			lines = append(lines, l)
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
