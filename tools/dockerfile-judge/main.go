// dockerfile-judge reads Dockerfiles with BuildKit's own parser (the one buildx, docker build
// and BuildKit's dockerfile frontend use) and prints, as JSON, what BuildKit will build: the
// parse or conversion error if any, BuildKit's lint warnings (`docker build --check`), and per
// stage its base, name and instructions (keyword, flags, arguments, heredocs). Tests use it as the judge of rendered Dockerfiles, so a renderer
// and a stand-in parser cannot agree on a blind spot.
//
// usage:
//
//	dockerfile-judge [FILE]   one Dockerfile from FILE (or stdin); one JSON document on stdout
//	dockerfile-judge -batch   stdin is JSON lines, each a JSON string holding a Dockerfile;
//	                          stdout is one JSON document per line, in the same order
//
// Exit 0 when every input was read (a Dockerfile BuildKit refuses is a result, not a failure);
// 2 on a usage or I/O error.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	digest "github.com/opencontainers/go-digest"
)

// Heredoc is one here-document BuildKit attached to an instruction.
type Heredoc struct {
	Name    string `json:"name"`
	Content string `json:"content"`
	Expand  bool   `json:"expand"`
	Chomp   bool   `json:"chomp"`
	FD      uint   `json:"fd"`
}

// Instruction is one instruction as BuildKit's parser split it.
type Instruction struct {
	Keyword string `json:"keyword"`
	// Flags as written before the arguments, e.g. "--from=build".
	Flags []string `json:"flags"`
	// Args after the keyword and flags; for exec (JSON) form, the array's elements.
	Args []string `json:"args"`
	// Expanded is each argument after BuildKit's word expansion (quotes, escapes and variables,
	// with no variable set), for the instructions whose arguments BuildKit expands; nil for the
	// others (RUN, CMD, ENTRYPOINT, HEALTHCHECK), or an argument that does not expand ("error: ...").
	Expanded []string  `json:"expanded"`
	JSON     bool      `json:"json"`
	Heredocs []Heredoc `json:"heredocs"`
	// Sub is the instruction an ONBUILD wraps.
	Sub       *Instruction `json:"sub,omitempty"`
	StartLine int          `json:"startLine"`
	EndLine   int          `json:"endLine"`
	Original  string       `json:"original"`
}

// Stage is one FROM and the instructions after it, as BuildKit groups them.
type Stage struct {
	// Name is the stage name BuildKit uses (lowercased), "" when unnamed.
	Name string `json:"name"`
	// Base is the image or earlier stage the stage starts from.
	Base         string        `json:"base"`
	Platform     string        `json:"platform"`
	Instructions []Instruction `json:"instructions"`
}

// Warning is a BuildKit lint rule that fired (parser warnings are rule NoEmptyContinuation).
type Warning struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
	Line    int    `json:"line"`
}

// Result is what the judge prints for one Dockerfile.
type Result struct {
	// Error is BuildKit's refusal (parse or instruction error), "" when it accepts the file.
	Error    string    `json:"error"`
	Warnings []Warning `json:"warnings"`
	// MetaArgs are ARG instructions before the first FROM.
	MetaArgs []Instruction `json:"metaArgs"`
	Stages   []Stage       `json:"stages"`
	// Final is the index of the stage a plain build produces (the last one), -1 when none.
	Final int `json:"final"`
}

func main() {
	batch := flag.Bool("batch", false, "read JSON lines of Dockerfile strings on stdin, print one JSON result per line")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: dockerfile-judge [FILE] | dockerfile-judge -batch < lines.jsonl")
	}
	flag.Parse()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)

	if *batch {
		if flag.NArg() != 0 {
			flag.Usage()
			os.Exit(2)
		}
		in := bufio.NewReader(os.Stdin)
		for n := 1; ; n++ {
			line, err := in.ReadBytes('\n')
			if len(bytes.TrimSpace(line)) > 0 {
				var text string
				if jerr := json.Unmarshal(line, &text); jerr != nil {
					fail(fmt.Sprintf("batch line %d is not a JSON string: %v", n, jerr))
				}
				if eerr := enc.Encode(judge(text)); eerr != nil {
					fail(eerr.Error())
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				fail(err.Error())
			}
		}
	}

	var data []byte
	var err error
	switch flag.NArg() {
	case 0:
		data, err = io.ReadAll(os.Stdin)
	case 1:
		data, err = os.ReadFile(flag.Arg(0))
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fail(err.Error())
	}
	if err := enc.Encode(judge(string(data))); err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "dockerfile-judge:", msg)
	os.Exit(2)
}

func judge(text string) Result {
	res := Result{Warnings: []Warning{}, MetaArgs: []Instruction{}, Stages: []Stage{}, Final: -1}
	parsed, err := parser.Parse(strings.NewReader(text))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	stages, _, perr := instructions.Parse(parsed.AST, nil)
	if perr != nil {
		res.Error = perr.Error()
	}

	// BuildKit's own lint pass: the same conversion `docker build --check` runs (every stage,
	// every rule, parser warnings included), with base images answered offline. A conversion
	// error is what a build would refuse before running any step.
	lint := lintDockerfile(text)
	if lint.err != "" && res.Error == "" {
		res.Error = lint.err
	}
	res.Warnings = append(res.Warnings, lint.warnings...)

	// The stages from the AST, named and based as the instruction layer reads them when it could.
	for _, node := range parsed.AST.Children {
		ins := instruction(node)
		if ins.Keyword == "FROM" {
			st := Stage{Instructions: []Instruction{}}
			if len(ins.Args) > 0 {
				st.Base = ins.Args[0]
			}
			if len(ins.Args) == 3 && strings.EqualFold(ins.Args[1], "as") {
				st.Name = strings.ToLower(ins.Args[2])
			}
			for _, f := range ins.Flags {
				if strings.HasPrefix(f, "--platform=") {
					st.Platform = strings.TrimPrefix(f, "--platform=")
				}
			}
			if perr == nil && len(res.Stages) < len(stages) {
				bs := stages[len(res.Stages)]
				st.Name, st.Base, st.Platform = bs.Name, bs.BaseName, bs.Platform
			}
			res.Stages = append(res.Stages, st)
			continue
		}
		if len(res.Stages) == 0 {
			res.MetaArgs = append(res.MetaArgs, ins)
			continue
		}
		last := &res.Stages[len(res.Stages)-1]
		last.Instructions = append(last.Instructions, ins)
	}
	if perr == nil && len(stages) != len(res.Stages) {
		res.Error = fmt.Sprintf("dockerfile-judge: the instruction layer found %d stages, the parser %d", len(stages), len(res.Stages))
	}
	res.Final = len(res.Stages) - 1
	return res
}

// expandedInstructions are those whose arguments BuildKit runs through its shell lexer.
var expandedInstructions = map[string]bool{"ADD": true, "ARG": true, "COPY": true, "ENV": true, "EXPOSE": true, "FROM": true, "LABEL": true, "USER": true, "WORKDIR": true, "VOLUME": true, "STOPSIGNAL": true}

type noEnv struct{}

func (noEnv) Get(string) (string, bool) { return "", false }
func (noEnv) Keys() []string            { return nil }

func instruction(node *parser.Node) Instruction {
	ins := Instruction{
		Keyword:   strings.ToUpper(node.Value),
		Flags:     append([]string{}, node.Flags...),
		Args:      []string{},
		JSON:      node.Attributes["json"],
		Heredocs:  []Heredoc{},
		StartLine: node.StartLine,
		EndLine:   node.EndLine,
		Original:  node.Original,
	}
	for _, h := range node.Heredocs {
		ins.Heredocs = append(ins.Heredocs, Heredoc{Name: h.Name, Content: h.Content, Expand: h.Expand, Chomp: h.Chomp, FD: h.FileDescriptor})
	}
	for n := node.Next; n != nil; n = n.Next {
		if len(n.Children) > 0 {
			// ONBUILD: the wrapped instruction is a child node.
			sub := instruction(n.Children[0])
			ins.Sub = &sub
			continue
		}
		ins.Args = append(ins.Args, n.Value)
	}
	if expandedInstructions[ins.Keyword] {
		lex := shell.NewLex('\\')
		ins.Expanded = []string{}
		for i, arg := range ins.Args {
			word := arg
			if ins.Keyword == "ARG" {
				// NAME=value: only the value expands.
				if eq := strings.Index(arg, "="); eq >= 0 {
					word = arg[eq+1:]
				}
			}
			if (ins.Keyword == "ENV" || ins.Keyword == "LABEL") && i%3 != 1 {
				// (key, value, separator) triples: the value expands.
				ins.Expanded = append(ins.Expanded, arg)
				continue
			}
			out, _, err := lex.ProcessWord(word, noEnv{})
			if err != nil {
				out = "error: " + err.Error()
			}
			ins.Expanded = append(ins.Expanded, out)
		}
	}
	return ins
}

// offlineResolver answers every base image with an empty linux/amd64 config, so the conversion
// never reaches a registry: the judge reads the Dockerfile, it does not pull.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}`)
	return ref, digest.FromBytes(cfg), cfg, nil
}

type lintResult struct {
	err      string
	warnings []Warning
}

func lintDockerfile(text string) lintResult {
	dt := []byte(text)
	sm := llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", dt)
	sm.Definition = &llb.Definition{}
	out := lintResult{warnings: []Warning{}}
	results, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{MetaResolver: offlineResolver{}, SourceMap: sm})
	if err != nil {
		out.err = err.Error()
		return out
	}
	if results.Error != nil {
		out.err = results.Error.Message
	}
	for _, w := range results.Warnings {
		line := 0
		if len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		out.warnings = append(out.warnings, Warning{Rule: w.RuleName, Message: w.Detail, Line: line})
	}
	return out
}
