package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/tpago/tpago/architectures/m1"
	"github.com/tpago/tpago/architectures/m1/ops"
	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/inventory"
	"github.com/tpago/tpago/roles"
)

func init() {
	commands = append(commands, newDeployCmd, newTestCmd, newShowPasswordCmd, newCmdCmd)
}

// clusterDir is a cluster directory, loaded, with its inventory.
type clusterDir struct {
	dir string
	cfg *cluster.Config
	inv *inventory.Inventory
}

// loadCluster loads a cluster directory (cluster.Load); its errors carry
// exit status 2 (bad input).
func loadCluster(dir string) (*clusterDir, error) {
	cl, err := cluster.Load(dir)
	if err != nil {
		return nil, err
	}
	return withInventory(cl)
}

func withInventory(cl *cluster.Cluster) (*clusterDir, error) {
	if err := cl.Config.UndefinedInTemplates(roleDefaults(cl.Dir)); err != nil {
		return nil, exitcode.Bad(err)
	}
	inv, err := cl.Inventory()
	if err != nil {
		return nil, exitcode.Bad(err)
	}
	return &clusterDir{dir: cl.Dir, cfg: cl.Config, inv: inv}, nil
}

// roleDefaults says whether a variable is a default of a built-in role or
// of one of the cluster directory's own roles: config.yml's templates may
// use those.
func roleDefaults(dir string) func(string) bool {
	names := roleVarNames(dir)
	return func(n string) bool { return names[n] }
}

// roleVarNames are the variables that the built-in roles and the cluster
// directory's roles define in defaults/main.yml and vars/main.yml.
func roleVarNames(dir string) map[string]bool {
	names := roles.BuiltinVarNames()
	for _, pat := range roles.VarFiles {
		own, _ := filepath.Glob(filepath.Join(dir, "roles", pat))
		for _, f := range own {
			if data, err := cluster.ReadInput(f); err == nil {
				roles.AddVarNames(names, data)
			}
		}
	}
	return names
}

// loadProvisioned loads a cluster directory whose hosts have been
// provisioned; its errors carry exit status 2 (bad input).
func loadProvisioned(dir string) (*clusterDir, error) {
	cl, err := cluster.LoadProvisioned(dir)
	if err != nil {
		return nil, err
	}
	return withInventory(cl)
}

// requireProvisioned fails with what to run when the cluster has no
// known_hosts yet (provision writes it).
func (c *clusterDir) requireProvisioned() error {
	return (&cluster.Cluster{Dir: c.dir, Config: c.cfg}).RequireProvisioned()
}

// architecturePlaybook returns the playbook to run: the cluster
// directory's own NAME when it has one, else the architecture's.
func (c *clusterDir) architecturePlaybook(name string) (string, []byte, error) {
	own := filepath.Join(c.dir, name)
	if data, err := os.ReadFile(own); err == nil {
		return own, data, nil
	}
	if !strings.EqualFold(c.cfg.Architecture, "M1") {
		return "", nil, fmt.Errorf("architecture %q: tpago knows M1 only", c.cfg.Architecture)
	}
	data, err := fs.ReadFile(m1.Playbooks, name)
	if err != nil {
		return "", nil, err
	}
	return own, data, nil
}

func (c *clusterDir) run(ctx context.Context, cmd *cobra.Command, name string, f runFlags) error {
	if err := c.requireProvisioned(); err != nil {
		return exitcode.Bad(err)
	}
	path, data, err := c.architecturePlaybook(name)
	if err != nil {
		return exitcode.Bad(err)
	}
	return runPlaybook(ctx, playRequest{
		playbook: path, data: data, inv: c.inv, flags: f, stdout: cmd.OutOrStdout(),
		rolePaths: []string{filepath.Join(c.dir, "roles")}, playbookFS: m1.Playbooks,
	})
}

func newDeployCmd() *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "deploy CLUSTER_DIR",
		Short: "Deploy the cluster: run the architecture's playbook over its hosts",
		Long: `Deploy runs the architecture's deploy playbook (or the cluster directory's own
deploy.yml) over the cluster's hosts. It is idempotent: a second deploy changes
nothing. With --check --diff it shows what would change and changes nothing.
Hooks in CLUSTER_DIR/hooks/ and roles in CLUSTER_DIR/roles/ are used.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := loadCluster(args[0])
			if err != nil {
				return exitcode.Bad(err)
			}
			return cl.run(cmd.Context(), cmd, "deploy.yml", f)
		},
	}
	f.register(c)
	return c
}

func newTestCmd() *cobra.Command {
	var f runFlags
	var failover bool
	c := &cobra.Command{
		Use:   "test CLUSTER_DIR",
		Short: "Check a deployed cluster with the real clients (replication, repmgr, Barman)",
		Long: `Test runs the architecture's checks with the real clients: each node's role,
the replication topology against config.yml, a write seen on every replica,
the failover manager's view, Barman's checks and backups.

--failover adds destructive checks, for test clusters only: the primary is
killed, the time to a new writable primary and the writes lost are measured,
the old primary's container is started again (it must not accept writes),
and it becomes a standby again: with repmgr by repmgr node rejoin
--force-rewind, with Patroni by itself (pg_rewind).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := loadCluster(args[0])
			if err != nil {
				return exitcode.Bad(err)
			}
			if err := cl.run(cmd.Context(), cmd, "test.yml", f); err != nil || !failover {
				return err
			}
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			// Its errors carry their own exit status: 2 for a cluster the
			// checks cannot run on, 1 for a failed check.
			_, err = ops.FailoverDrill(ctx, opsCluster(cmd, cl))
			return err
		},
	}
	f.register(c)
	c.Flags().BoolVar(&failover, "failover", false, "also kill the primary and check the failover (destructive: test clusters only)")
	return c
}

func newShowPasswordCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show-password CLUSTER_DIR USER",
		Short: "Print a generated password of the cluster (postgres, repmgr, barman, streaming_barman)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, user := args[0], args[1]
			secrets := filepath.Join(dir, "secrets")
			if strings.ContainsAny(user, "/\\") || user == "." || user == ".." || isSSHKey(user) {
				return exitcode.Bad(fmt.Errorf("no password named %q", user))
			}
			data, err := os.ReadFile(filepath.Join(secrets, user))
			if err != nil {
				var names []string
				if ents, err2 := os.ReadDir(secrets); err2 == nil {
					for _, e := range ents {
						if !strings.HasSuffix(e.Name(), ".tmp") && !isSSHKey(e.Name()) {
							names = append(names, e.Name())
						}
					}
				}
				if len(names) == 0 {
					return exitcode.Bad(fmt.Errorf("cluster %s has no passwords yet: they are made by `tpago deploy`", dir))
				}
				sort.Strings(names)
				return exitcode.Bad(fmt.Errorf("no password named %q; there are: %s", user, strings.Join(names, ", ")))
			}
			fmt.Fprintln(cmd.OutOrStdout(), strings.TrimSpace(string(data)))
			return nil
		},
	}
}

// isSSHKey tells the SSH key files of the secrets folder (the postgres
// users' key pair) from passwords.
func isSSHKey(name string) bool { return strings.Contains(name, "_ssh_key") }

func newCmdCmd() *cobra.Command {
	var become bool
	var user string
	var f runFlags
	c := &cobra.Command{
		Use:   "cmd CLUSTER_DIR HOST_PATTERN COMMAND",
		Short: "Run a shell command on the cluster's hosts matching a pattern (ad hoc)",
		Example: `  tpago cmd ~/clusters/m1 replica 'uptime'
  tpago cmd ~/clusters/m1 all --become-user postgres 'psql -Atc "select pg_is_in_recovery()"'`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := loadProvisioned(args[0])
			if err != nil {
				return err
			}
			return adHoc(cmd.Context(), cmd.OutOrStdout(), cl.inv, args[1], args[2], become || user != "", user, f)
		},
	}
	c.Flags().BoolVarP(&become, "become", "b", false, "run with sudo")
	c.Flags().StringVar(&user, "become-user", "", "run as this user (implies --become)")
	f.register(c)
	return c
}

// adHoc runs one shell command on the hosts of pattern and prints each
// host's output as `ansible HOSTS -m shell` does.
func adHoc(ctx context.Context, out io.Writer, inv *inventory.Inventory, pattern, command string, become bool, user string, f runFlags) error {
	if err := f.validate(); err != nil {
		return err
	}
	if f.limit != "" {
		if _, err := inv.Limit(f.limit); err != nil {
			return exitcode.Bad(err)
		}
	}
	hosts, err := inv.Match(pattern)
	if err != nil {
		return exitcode.Bad(err)
	}
	if len(hosts) == 0 {
		return exitcode.Bad(fmt.Errorf("pattern %q matches no host", pattern))
	}
	t := map[string]any{"shell": command}
	pl := map[string]any{"hosts": pattern, "gather_facts": false, "tasks": []any{t}}
	if become {
		pl["become"] = true
		if user != "" {
			pl["become_user"] = user
		}
	}
	data, err := yamlMarshal([]any{pl})
	if err != nil {
		return err
	}
	ld := newLoader(nil)
	pb, err := ld.LoadPlaybookData(filepath.Join(os.TempDir(), "adhoc.yml"), data)
	if err != nil {
		return exitcode.Bad(err)
	}
	cb := &adHocOutput{w: out}
	ex := executor.New(executor.Options{Inventory: inv, Limit: f.limit, Forks: f.forks, Output: cb,
		ConnectTimeout: f.connTimeout, AcceptNewHostKeys: f.acceptNew, Loader: ld})
	ctx, stop := interruptible(ctx)
	defer stop()
	res, err := ex.Run(ctx, pb)
	if err != nil {
		return exitcode.Bad(err)
	}
	if code := res.ExitCode(); code != 0 {
		return exitcode.With(code, nil)
	}
	return nil
}

type adHocOutput struct {
	mu sync.Mutex
	w  io.Writer
}

func (a *adHocOutput) PlayStart(*playbook.Play, string, []string) {}
func (a *adHocOutput) TaskStart(*playbook.Task, string, bool)     {}
func (a *adHocOutput) Retry(string, *playbook.Task, int, int)     {}
func (a *adHocOutput) Warn(msg string)                            { fmt.Fprintln(os.Stderr, "[WARNING]:", msg) }
func (a *adHocOutput) Recap([]*executor.Stats)                    {}
func (a *adHocOutput) Trace(string, string, string)               {}
func (a *adHocOutput) HostResult(r *executor.TaskResult) {
	a.mu.Lock()
	defer a.mu.Unlock()
	status := "CHANGED"
	switch r.Status {
	case executor.Failed:
		status = "FAILED"
	case executor.Unreachable:
		fmt.Fprintf(a.w, "%s | UNREACHABLE! => %s\n", r.Host, r.Msg)
		return
	}
	rc, _ := r.Result["rc"].(int)
	fmt.Fprintf(a.w, "%s | %s | rc=%d >>\n", r.Host, status, rc)
	if s, _ := r.Result["stdout"].(string); s != "" {
		fmt.Fprintln(a.w, s)
	}
	if s, _ := r.Result["stderr"].(string); s != "" {
		fmt.Fprintln(a.w, s)
	}
	if r.Status == executor.Failed && r.Result["rc"] == nil {
		fmt.Fprintln(a.w, r.Msg)
	}
}

var _ = errors.New
