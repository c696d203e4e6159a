// pulumi-project-check loads a Pulumi project and its stack files with Pulumi's own Go
// loader (github.com/pulumi/pulumi/sdk/v3/go/common/workspace) and runs the stack config
// validation `pulumi preview` runs first, so the project files are judged by the program
// that reads them. Output: one JSON object; exit 1 when any file is refused.
//
// usage: pulumi-project-check PROJECT_DIR [STACK ...]   (default: every Pulumi.<stack>.yaml)
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/esc"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

type fileResult struct {
	File  string `json:"file"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

type report struct {
	Project fileResult   `json:"project"`
	Stacks  []fileResult `json:"stacks"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pulumi-project-check PROJECT_DIR [STACK ...]")
		os.Exit(2)
	}
	dir := os.Args[1]
	stacks := os.Args[2:]
	if len(stacks) == 0 {
		matches, _ := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
		for _, m := range matches {
			stacks = append(stacks, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "Pulumi."), ".yaml"))
		}
		sort.Strings(stacks)
	}
	r := report{Project: fileResult{File: "Pulumi.yaml"}, Stacks: []fileResult{}}
	failed := false
	project, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		r.Project.Error = err.Error()
		failed = true
	} else {
		r.Project.OK = true
		sink := diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never})
		for _, stack := range stacks {
			res := fileResult{File: "Pulumi." + stack + ".yaml"}
			ps, err := workspace.LoadProjectStack(sink, project, filepath.Join(dir, res.File))
			if err == nil {
				err = workspace.ValidateStackConfigAndApplyProjectConfig(
					context.Background(), stack, project, esc.Value{}, ps.Config, config.NopEncrypter, config.NopDecrypter)
			}
			if err != nil {
				res.Error = err.Error()
				failed = true
			} else {
				res.OK = true
			}
			r.Stacks = append(r.Stacks, res)
		}
	}
	out, _ := json.MarshalIndent(r, "", "  ")
	fmt.Println(string(out))
	if failed {
		os.Exit(1)
	}
}
