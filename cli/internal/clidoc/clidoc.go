// Package clidoc renders a cobra command tree as the Markdown command
// reference of docs/cli.md, so the reference is generated from the
// commands themselves and a test keeps the file up to date.
package clidoc

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Markers delimit the generated part of a Markdown file.
const (
	Begin = "<!-- BEGIN GENERATED COMMAND REFERENCE: go test ./internal/cmd/fedtoken -run TestCLIDoc -update -->"
	End   = "<!-- END GENERATED COMMAND REFERENCE -->"
)

// Reference renders every available command under root, depth first, in
// the order cobra lists them (alphabetical). The shell-specific children of
// "completion" are listed, not described.
func Reference(root *cobra.Command) string {
	var b bytes.Buffer
	b.WriteString("### Global flags\n\n")
	writeFlags(&b, root.PersistentFlags())
	walk(&b, root)
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func walk(w *bytes.Buffer, c *cobra.Command) {
	for _, sub := range c.Commands() {
		if !sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
			continue
		}
		writeCommand(w, sub)
		if sub.Name() != "completion" {
			walk(w, sub)
		}
	}
}

func writeCommand(w *bytes.Buffer, c *cobra.Command) {
	fmt.Fprintf(w, "### `%s`\n\n", c.CommandPath())
	fmt.Fprintf(w, "%s.\n\n", strings.TrimSuffix(c.Short, "."))
	if c.Runnable() {
		fmt.Fprintf(w, "```\n%s\n```\n\n", c.UseLine())
	}
	if c.Long != "" && c.Long != c.Short && c.Name() != "completion" {
		fmt.Fprintf(w, "%s\n\n", longText(c.Long))
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprint(w, "Subcommands:\n\n")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				fmt.Fprintf(w, "- `%s` — %s\n", sub.Name(), sub.Short)
			}
		}
		fmt.Fprintln(w)
	}
	if c.HasAvailableLocalFlags() {
		fmt.Fprint(w, "Flags:\n\n")
		writeFlags(w, c.LocalNonPersistentFlags())
	}
	if c.Example != "" {
		fmt.Fprintf(w, "Examples:\n\n```sh\n%s\n```\n\n", dedent(c.Example))
	}
}

// longText keeps indented blocks (tables of formats, checks) as code.
func longText(s string) string {
	var out []string
	var block []string
	flush := func() {
		if len(block) > 0 {
			out = append(out, "```\n"+strings.Join(block, "\n")+"\n```")
			block = nil
		}
	}
	for _, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		lines := strings.Split(para, "\n")
		if strings.HasPrefix(lines[0], "  ") {
			block = append(block, dedent(para))
			continue
		}
		flush()
		out = append(out, para)
	}
	flush()
	return strings.Join(out, "\n\n")
}

func writeFlags(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprintln(w, "| flag | default | description |")
	fmt.Fprintln(w, "|---|---|---|")
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
		}
		name := "--" + f.Name
		if f.Shorthand != "" {
			name = "-" + f.Shorthand + ", " + name
		}
		varname, usage := pflag.UnquoteUsage(f)
		if varname != "" && f.Value.Type() != "count" {
			name += " " + varname
		}
		def := f.DefValue
		switch {
		case f.Value.Type() == "bool" && def == "false", f.Value.Type() == "count" && def == "0", def == "":
			def = ""
		default:
			def = "`" + def + "`"
		}
		fmt.Fprintf(w, "| `%s` | %s | %s |\n", name, def, strings.ReplaceAll(usage, "|", `\|`))
	})
	fmt.Fprintln(w)
}

// dedent removes the common two-space indent of cobra examples.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "  ")
	}
	return strings.Join(lines, "\n")
}

// Splice replaces the text between Begin and End in doc with ref.
func Splice(doc, ref string) (string, error) {
	i := strings.Index(doc, Begin)
	j := strings.Index(doc, End)
	if i < 0 || j < i {
		return "", fmt.Errorf("clidoc: the markers %q and %q are missing", Begin, End)
	}
	return doc[:i+len(Begin)] + "\n\n" + ref + "\n" + doc[j:], nil
}
