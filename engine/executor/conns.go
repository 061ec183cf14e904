package executor

import (
	"context"
	"fmt"
	"sync"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/playbook"
)

// ConnVars are a host's connection settings, from its variables.
type ConnVars struct {
	Host           string
	Port           int
	User           string
	KeyFiles       []string
	Password       string
	Connection     string // ssh or local
	KnownHostsFile string
	AcceptNew      bool
}

type hostConn struct {
	once  sync.Once
	c     conn.Conn
	login string
	err   error
}

// connScope returns the variables used to connect to target: its own
// inventory variables (a delegate's, not the delegating host's).
func (pr *playRun) connScope(target, h string, hsc *hostScope) *hostScope {
	if target == h {
		return hsc
	}
	if _, ok := pr.e.invVars[target]; ok {
		return pr.hostScope(target, &playbook.Task{}, &scope{})
	}
	return &hostScope{magic: map[string]any{"inventory_hostname": target}}
}

func (e *Executor) connVars(target string, hsc *hostScope) (ConnVars, error) {
	get := func(n string) (string, bool, error) {
		v, ok := hsc.Lookup(n)
		if !ok || v == nil {
			return "", false, nil
		}
		r, err := expr.RenderDeepIn(v, hsc)
		if err != nil {
			return "", false, fmt.Errorf("%s: %v", n, err)
		}
		return expr.ToString(r), true, nil
	}
	cv := ConnVars{Host: target}
	connection, _, err := get("ansible_connection")
	if err != nil {
		return cv, err
	}
	cfg, err := conn.SSHConfigFromVars(target, get)
	if err != nil {
		return cv, err
	}
	cv = ConnVars{Host: cfg.Host, Port: cfg.Port, User: cfg.User, KeyFiles: cfg.KeyFiles, Password: cfg.Password,
		Connection: connection, KnownHostsFile: cfg.KnownHostsFile, AcceptNew: cfg.AcceptNew || e.opts.AcceptNewHostKeys}
	if target == "localhost" && cv.Connection == "" {
		if _, ok := e.invVars[target]; !ok {
			cv.Connection = "local"
		}
	}
	return cv, nil
}

// connect returns the run's connection to target, dialling it once.
func (e *Executor) connect(ctx context.Context, target string, hsc *hostScope) (conn.Conn, string, error) {
	e.mu.Lock()
	hc, ok := e.conns[target]
	if !ok {
		hc = &hostConn{}
		e.conns[target] = hc
	}
	e.mu.Unlock()
	hc.once.Do(func() {
		cv, err := e.connVars(target, hsc)
		if err != nil {
			hc.err = fmt.Errorf("%w: %s: connection variables: %v", conn.ErrUnreachable, target, err)
			return
		}
		hc.login = cv.User
		if e.opts.Dial != nil {
			hc.c, hc.err = e.opts.Dial(ctx, target, cv)
			return
		}
		if cv.Connection == "local" {
			hc.c = conn.Local{}
			return
		}
		dctx, cancel := context.WithTimeout(ctx, e.opts.ConnectTimeout+2e9)
		defer cancel()
		c, err := conn.DialSSH(dctx, conn.SSHConfig{
			Host: cv.Host, Port: cv.Port, User: cv.User, KeyFiles: cv.KeyFiles, Password: cv.Password,
			UseAgent: len(cv.KeyFiles) == 0, KnownHostsFile: cv.KnownHostsFile, AcceptNew: cv.AcceptNew,
			ConnectTimeout: e.opts.ConnectTimeout,
		})
		if err != nil {
			hc.err = err
			return
		}
		hc.c = conn.NewPersistent(c)
		if hc.login == "" {
			hc.login = "root"
		}
	})
	return hc.c, hc.login, hc.err
}

// dropConn forgets a broken connection so that a later task may redial.
func (e *Executor) dropConn(target string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if hc, ok := e.conns[target]; ok && hc.c != nil {
		hc.c.Close()
	}
	delete(e.conns, target)
}
