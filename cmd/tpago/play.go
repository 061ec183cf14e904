package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/engine/expr"
	_ "github.com/tpago/tpago/engine/modules" // the built-in modules
	"github.com/tpago/tpago/engine/output"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/inventory"
	"github.com/tpago/tpago/roles"
	"github.com/tpago/tpago/yamlx"
)

func init() { commands = append(commands, newPlayCmd) }

// runFlags are the flags of every command that runs a playbook.
type runFlags struct {
	check, diff bool
	limit       string
	tags, skip  []string
	extra       []string
	forks       int
	verbose     int
	json        bool
	acceptNew   bool
	connTimeout time.Duration
	taskTimeout time.Duration
	listTasks   bool
	listHosts   bool
	listTags    bool
	syntaxCheck bool
	profile     bool
}

func (f *runFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.BoolVarP(&f.check, "check", "C", false, "predict changes without making them")
	fl.BoolVarP(&f.diff, "diff", "D", false, "show the differences in files and states")
	fl.StringVarP(&f.limit, "limit", "l", "", "further limit the hosts to a pattern")
	fl.StringSliceVarP(&f.tags, "tags", "t", nil, "run only tasks tagged with these")
	fl.StringSliceVar(&f.skip, "skip-tags", nil, "skip tasks tagged with these")
	fl.StringArrayVarP(&f.extra, "extra-vars", "e", nil, "extra variables: k=v, YAML/JSON, or @file.yml (highest precedence)")
	fl.IntVarP(&f.forks, "forks", "f", 50, "how many hosts run a task at once")
	fl.CountVarP(&f.verbose, "verbose", "v", "show results (-v) and remote commands (-vvv)")
	fl.BoolVar(&f.json, "json", false, "print one JSON event per line")
	fl.BoolVar(&f.acceptNew, "accept-new-host-keys", false, "record unknown SSH host keys (a changed key is always refused)")
	fl.DurationVarP(&f.connTimeout, "timeout", "T", 10*time.Second, "SSH connection timeout")
	fl.BoolVar(&f.profile, "profile", false, "after the recap, list the slowest tasks (as Ansible's profile_tasks)")
	fl.DurationVar(&f.taskTimeout, "task-timeout", 0, "stop a task that runs longer than this on a host (0: no limit; a task's timeout: wins)")
}

// validate refuses flag values that cannot run anything; cobra parses them
// but does not bound them.
func (f *runFlags) validate() error {
	if f.forks < 1 {
		return exitcode.Bad(fmt.Errorf("--forks %d: at least one host must run at a time (--forks 1 or more)", f.forks))
	}
	return nil
}

func newPlayCmd() *cobra.Command {
	var f runFlags
	var inv string
	c := &cobra.Command{
		Use:   "play PLAYBOOK -i INVENTORY",
		Short: "Run an Ansible-style playbook",
		Long: `Run a playbook over the hosts of an inventory, the way ansible-playbook does:
every file is loaded and checked before any host is contacted; each task runs
on all of its hosts at once. Exit status: 0 ok, 2 a host failed (or bad input),
4 a host was unreachable.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runPlaybook(c.Context(), playRequest{playbook: args[0], inventory: inv, flags: f, stdout: c.OutOrStdout()})
		},
	}
	c.Flags().StringVarP(&inv, "inventory", "i", "", "inventory file or folder (YAML), or a comma-separated host list")
	f.register(c)
	c.Flags().BoolVar(&f.listTasks, "list-tasks", false, "list the tasks and exit")
	c.Flags().BoolVar(&f.listHosts, "list-hosts", false, "list the hosts of each play and exit")
	c.Flags().BoolVar(&f.listTags, "list-tags", false, "list the tags and exit")
	c.Flags().BoolVar(&f.syntaxCheck, "syntax-check", false, "check the playbook and exit")
	return c
}

type playRequest struct {
	playbook  string
	data      []byte // the playbook's content, when not read from the file
	inventory string
	inv       *inventory.Inventory
	rolePaths []string
	// playbookFS holds embedded playbooks that import_playbook may name.
	playbookFS fs.FS
	extraVars  map[string]any
	flags      runFlags
	stdout     io.Writer
}

// loadInventory reads -i: a file, a folder, or "h1,h2,".
func loadInventory(spec string) (*inventory.Inventory, error) {
	if spec == "" {
		inv := inventory.New()
		inv.Finish()
		return inv, nil
	}
	if _, err := os.Stat(spec); err != nil && strings.Contains(spec, ",") {
		inv := inventory.New()
		for _, h := range strings.Split(spec, ",") {
			if h = strings.TrimSpace(h); h != "" {
				inv.AddHost(h)
			}
		}
		inv.Finish()
		return inv, nil
	}
	return inventory.Load(spec)
}

// parseExtraVars reads -e values: k=v pairs, inline YAML/JSON, @file.
func parseExtraVars(specs []string) (map[string]any, error) {
	out := map[string]any{}
	for _, s := range specs {
		s = strings.TrimSpace(s)
		switch {
		case strings.HasPrefix(s, "@"):
			n, err := yamlx.ReadOne(s[1:])
			if err != nil {
				return nil, fmt.Errorf("-e %s: %w", s, err)
			}
			m, ok := n.Plain().(map[string]any)
			if !ok && n.Kind != yamlx.Null {
				return nil, fmt.Errorf("-e %s: the file must hold a mapping of variables", s)
			}
			for k, v := range m {
				out[k] = v
			}
		case strings.HasPrefix(s, "{"):
			n, err := yamlx.ParseOne("-e", []byte(s))
			if err != nil {
				return nil, fmt.Errorf("-e: %w", err)
			}
			m, ok := n.Plain().(map[string]any)
			if !ok {
				return nil, fmt.Errorf("-e %s: expected a mapping", s)
			}
			for k, v := range m {
				out[k] = v
			}
		default:
			kv, _, err := playbook.SplitArgs(s, moduleSpecNone)
			if err != nil || len(kv) == 0 {
				return nil, fmt.Errorf("-e %q: expected key=value, a YAML/JSON mapping, or @file.yml", s)
			}
			for k, v := range kv {
				out[k] = v
			}
		}
	}
	return out, nil
}

func newLoader(rolePaths []string) *playbook.Loader {
	sub, err := fs.Sub(roles.FS, ".")
	if err != nil {
		sub = roles.FS
	}
	return &playbook.Loader{RolePaths: rolePaths, BuiltinRoles: sub}
}

// interruptible returns a context cancelled by the first Ctrl-C; the
// second one exits at once.
func interruptible(parent context.Context) (context.Context, func()) {
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-ch:
			fmt.Fprintln(os.Stderr, "\ntpago: interrupted: stopping after the running commands (Ctrl-C again to quit now)")
			cancel()
		case <-ctx.Done():
			return
		}
		<-ch
		os.Exit(130)
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

func runPlaybook(ctx context.Context, req playRequest) error {
	f := req.flags
	extra, err := parseExtraVars(f.extra)
	if err != nil {
		return exitcode.Bad(err)
	}
	for k, v := range req.extraVars {
		if _, set := extra[k]; !set {
			extra[k] = v
		}
	}
	if err := f.validate(); err != nil {
		return err
	}
	inv := req.inv
	if inv == nil {
		if inv, err = loadInventory(req.inventory); err != nil {
			return exitcode.Bad(err)
		}
	}
	if f.limit != "" {
		if _, err := inv.Limit(f.limit); err != nil {
			return exitcode.Bad(err)
		}
	}
	ld := newLoader(req.rolePaths)
	ld.PlaybookFS = req.playbookFS
	var pb *playbook.Playbook
	if req.data != nil {
		pb, err = ld.LoadPlaybookData(req.playbook, req.data)
	} else {
		pb, err = ld.LoadPlaybook(req.playbook)
	}
	if err != nil {
		return exitcode.Bad(fmt.Errorf("the playbook has errors; no host was contacted:\n%w", err))
	}
	out := req.stdout
	if out == nil {
		out = os.Stdout
	}
	if f.syntaxCheck {
		fmt.Fprintf(out, "playbook: %s\n", req.playbook)
		return nil
	}
	if f.listHosts || f.listTasks || f.listTags {
		return listPlaybook(out, pb, inv, f)
	}
	ex := executor.New(executor.Options{})
	var cb executor.Callback
	if f.json {
		cb = &output.JSON{W: out}
	} else {
		color := false
		if fo, ok := out.(*os.File); ok {
			color = output.IsTerminal(fo) && os.Getenv("NO_COLOR") == ""
		}
		cb = &output.Writer{W: out, Color: color, Live: color, Verbosity: f.verbose, Diff: f.diff, Check: f.check,
			Profile: f.profile}
	}
	*ex = *executor.New(executor.Options{
		Inventory: inv, Limit: f.limit, Tags: f.tags, SkipTags: f.skip, ExtraVars: extra,
		Check: f.check, Diff: f.diff, Forks: f.forks, Verbosity: f.verbose, Output: cb, Loader: ld,
		ConnectTimeout: f.connTimeout, TaskTimeout: f.taskTimeout, AcceptNewHostKeys: f.acceptNew,
	})
	ctx, stop := interruptible(ctx)
	defer stop()
	res, err := ex.Run(ctx, pb)
	if err != nil {
		if ctx.Err() != nil {
			return exitcode.With(130, fmt.Errorf("interrupted"))
		}
		return exitcode.Bad(err)
	}
	if code := res.ExitCode(); code != 0 {
		return exitcode.With(code, nil)
	}
	return nil
}

func listPlaybook(out io.Writer, pb *playbook.Playbook, inv *inventory.Inventory, f runFlags) error {
	fmt.Fprintf(out, "\nplaybook: %s\n", pb.Path)
	for i, p := range pb.Plays {
		name := p.Name
		if name == "" {
			name = p.Hosts // as Ansible names a play without a name
		}
		fmt.Fprintf(out, "\n  play #%d (%s): %s\tTAGS: [%s]\n", i+1, p.Hosts, name, strings.Join(p.Tags, ","))
		if f.listHosts {
			hs, err := inv.Match(p.Hosts)
			if err != nil {
				return exitcode.Bad(err)
			}
			if f.limit != "" {
				lim, err := inv.Match(f.limit)
				if err != nil {
					return exitcode.Bad(err)
				}
				in := map[string]bool{}
				for _, h := range lim {
					in[h] = true
				}
				var keep []string
				for _, h := range hs {
					if in[h] {
						keep = append(keep, h)
					}
				}
				hs = keep
			}
			fmt.Fprintf(out, "    pattern: ['%s']\n    hosts (%d):\n", p.Hosts, len(hs))
			for _, h := range hs {
				fmt.Fprintf(out, "      %s\n", h)
			}
		}
		if f.listTasks || f.listTags {
			tags := map[string]bool{}
			if f.listTasks {
				fmt.Fprintf(out, "    tasks:\n")
			}
			for _, ts := range [][]*playbook.Task{p.PreTasks, p.Tasks, p.PostTasks} {
				for t, parents := range playbook.Walk(ts) {
					// Blocks and includes known before the run are listed
					// by their tasks; includes whose file is known only at
					// run time are listed as themselves, as Ansible does.
					if t.Block != nil || t.Include != nil && (t.Include.LoadedRole != nil || !expr.HasTemplate(t.Include.File+t.Include.RoleName)) {
						continue
					}
					all := append([]string(nil), p.Tags...)
					for _, pt := range parents {
						all = append(all, pt.Tags...)
					}
					all = append(all, t.Tags...)
					set := map[string]bool{}
					for _, x := range all {
						set[x] = true
					}
					if !executor.TagsSelected(set, f.tags, f.skip) {
						continue
					}
					for _, x := range all {
						tags[x] = true
					}
					if f.listTasks {
						name := t.Label()
						if t.Role != nil {
							name = t.Role.Name + " : " + name
						}
						fmt.Fprintf(out, "      %s\tTAGS: [%s]\n", name, strings.Join(all, ","))
					}
				}
			}
			if f.listTags {
				var l []string
				for t := range tags {
					l = append(l, t)
				}
				sort.Strings(l)
				fmt.Fprintf(out, "      TASK TAGS: [%s]\n", strings.Join(l, ", "))
			}
		}
	}
	return nil
}

var _ = json.Marshal
