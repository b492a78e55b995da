// enclave-render: renders a Helm chart the way `helm template` does, for the subset of Helm
// that charts/enclave uses, so the chart can be tested where no helm binary is available.
//
// Built from Debian's packages in GOPATH mode (see build.sh next to this file): Go's
// text/template, github.com/Masterminds/sprig (v3 code at the v1 import path in Debian) and
// gopkg.in/yaml.v3. No network, no modules.
//
// Usage:
//
//	enclave-render [-chart DIR] [-f values.yaml]... [-set key.path=value]... [-name RELEASE]
//	               [-namespace NS] [-kube-version 1.29.0] [-notes]
//
// What it implements of Helm: values.yaml coalesced with each -f file and -set (maps merge key
// by key, a null deletes, other values replace); .Values .Chart .Release .Capabilities
// .Template; sprig's functions (without env/expandenv, as in Helm) plus include, tpl, required,
// toYaml, fromYaml, toJson, fromJson and lookup (always empty: nothing is fetched); missing keys
// render as empty; templates named _* are partials; NOTES.txt is rendered only with -notes;
// every rendered document must parse as YAML. Output: each template's documents under a
// "# Source: CHART/templates/FILE" comment, files in lexical order. Exit code 1 on any error.
//
// What it does not do: JSON-schema validation of values (the chart tests do that with ajv),
// dependencies/subcharts, .Files, hooks ordering, Kubernetes API calls.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// apiVersions answers .Capabilities.APIVersions.Has.
type apiVersions []string

func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "enclave-render: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	// Nothing is printed unless the whole chart renders.
	var out bytes.Buffer
	if err := render(args, &out); err != nil {
		return err
	}
	_, err := stdout.Write(out.Bytes())
	return err
}

func render(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("enclave-render", flag.ContinueOnError)
	chartDir := fs.String("chart", ".", "chart directory")
	release := fs.String("name", "release-name", "release name")
	namespace := fs.String("namespace", "default", "release namespace")
	kubeVersion := fs.String("kube-version", "1.29.0", "Kubernetes version for .Capabilities")
	notes := fs.Bool("notes", false, "render templates/NOTES.txt instead of the manifests")
	var valueFiles, sets multiFlag
	fs.Var(&valueFiles, "f", "values file (repeatable, later wins)")
	fs.Var(&sets, "set", "key.path=value (repeatable, after the files)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	chartMeta, err := readYAMLMap(filepath.Join(*chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	chartName, _ := chartMeta["name"].(string)
	if chartName == "" {
		return errors.New("Chart.yaml has no name")
	}

	values, err := readYAMLMap(filepath.Join(*chartDir, "values.yaml"))
	if err != nil {
		return err
	}
	for _, f := range valueFiles {
		override, err := readYAMLMap(f)
		if err != nil {
			return err
		}
		values = coalesce(values, override)
	}
	for _, s := range sets {
		if err := applySet(values, s); err != nil {
			return err
		}
	}

	kv := strings.TrimPrefix(*kubeVersion, "v")
	parts := strings.SplitN(kv, ".", 3)
	if len(parts) < 2 {
		return fmt.Errorf("bad -kube-version %q", *kubeVersion)
	}
	top := map[string]interface{}{
		"Values": values,
		"Chart":  chartObject(chartMeta),
		"Release": map[string]interface{}{
			"Name": *release, "Namespace": *namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{
				"Version": "v" + kv, "GitVersion": "v" + kv, "Major": parts[0], "Minor": parts[1],
			},
			"APIVersions": apiVersions{
				"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1",
				"rbac.authorization.k8s.io/v1", "autoscaling/v2",
			},
		},
		"Files": map[string]interface{}{},
	}

	templatesDir := filepath.Join(*chartDir, "templates")
	var files []string
	err = filepath.Walk(templatesDir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)

	root := template.New("chart")
	root.Option("missingkey=zero")
	root.Funcs(funcMap(root))
	names := map[string]string{} // template name -> file path
	for _, p := range files {
		rel, _ := filepath.Rel(*chartDir, p)
		name := path.Join(chartName, filepath.ToSlash(rel))
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := root.New(name).Parse(string(src)); err != nil {
			return err
		}
		names[name] = p
	}

	var ordered []string
	for name := range names {
		ordered = append(ordered, name)
	}
	sort.Strings(ordered)
	for _, name := range ordered {
		base := path.Base(name)
		isNotes := base == "NOTES.txt"
		if strings.HasPrefix(base, "_") || isNotes != *notes {
			continue
		}
		if !isNotes && !strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".yml") {
			continue
		}
		data := withTemplate(top, name, path.Join(chartName, "templates"))
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if isNotes {
			fmt.Fprint(out, text)
			continue
		}
		docs, err := splitDocuments(text)
		if err != nil {
			return fmt.Errorf("%s: rendered YAML does not parse: %v\n%s", name, err, numbered(text))
		}
		for _, doc := range docs {
			fmt.Fprintf(out, "---\n# Source: %s\n%s\n", name, doc)
		}
	}
	return nil
}

func withTemplate(top map[string]interface{}, name, basePath string) map[string]interface{} {
	data := make(map[string]interface{}, len(top)+1)
	for k, v := range top {
		data[k] = v
	}
	data["Template"] = map[string]interface{}{"Name": name, "BasePath": basePath}
	return data
}

// chartObject exposes Chart.yaml with Helm's field names (.Chart.Name, .Chart.AppVersion, ...).
func chartObject(meta map[string]interface{}) map[string]interface{} {
	fields := map[string]string{
		"apiVersion": "APIVersion", "name": "Name", "version": "Version", "appVersion": "AppVersion",
		"description": "Description", "type": "Type", "kubeVersion": "KubeVersion", "home": "Home",
		"sources": "Sources", "keywords": "Keywords", "maintainers": "Maintainers", "icon": "Icon",
		"annotations": "Annotations", "deprecated": "Deprecated", "dependencies": "Dependencies",
	}
	out := map[string]interface{}{}
	for k, v := range meta {
		if f, ok := fields[k]; ok {
			out[f] = v
		}
	}
	return out
}

func funcMap(root *template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	f["toYaml"] = toYAML
	f["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["toJson"] = func(v interface{}) string {
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(b)
	}
	f["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	f["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	f["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("tpl: %v", err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("tpl: %v", err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	return f
}

// toYAML is Helm's toYaml: block style, two-space indentation, no trailing newline.
func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	_ = enc.Close()
	return strings.TrimSuffix(buf.String(), "\n")
}

func readYAMLMap(p string) (map[string]interface{}, error) {
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return m, nil
}

// coalesce merges override into base the way Helm merges values: maps key by key, a null
// removes the key, anything else replaces.
func coalesce(base, override map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range override {
		if v == nil {
			delete(out, k)
			continue
		}
		bm, bok := out[k].(map[string]interface{})
		om, ook := v.(map[string]interface{})
		if bok && ook {
			out[k] = coalesce(bm, om)
		} else {
			out[k] = v
		}
	}
	return out
}

// applySet handles key.path=value: value is a YAML scalar (true, 42, text) or null.
func applySet(values map[string]interface{}, s string) error {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return fmt.Errorf("-set %q: want key.path=value", s)
	}
	keys := strings.Split(s[:eq], ".")
	raw := s[eq+1:]
	var v interface{}
	switch {
	case raw == "null":
		v = nil
	case raw == "true" || raw == "false":
		v = raw == "true"
	default:
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
			v = int(n)
		} else {
			v = raw
		}
	}
	m := values
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			m[k] = next
		}
		m = next
	}
	last := keys[len(keys)-1]
	if v == nil {
		delete(m, last)
	} else {
		m[last] = v
	}
	return nil
}

// splitDocuments returns the non-empty YAML documents of a rendered template, each checked to
// parse.
func splitDocuments(text string) ([]string, error) {
	var docs []string
	for _, chunk := range splitOnSeparators(text) {
		var node yaml.Node
		if err := yaml.Unmarshal([]byte(chunk), &node); err != nil {
			return nil, err
		}
		if len(node.Content) == 0 { // empty or comments only
			continue
		}
		docs = append(docs, strings.Trim(chunk, "\n "))
	}
	return docs, nil
}

func splitOnSeparators(text string) []string {
	var chunks []string
	var cur []string
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimRight(line, " ") == "---" {
			chunks = append(chunks, strings.Join(cur, "\n"))
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	return append(chunks, strings.Join(cur, "\n"))
}

func numbered(text string) string {
	var b strings.Builder
	for i, line := range strings.Split(text, "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, line)
	}
	return b.String()
}
