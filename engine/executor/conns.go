package executor

import (
	"context"
	"fmt"
	"strconv"
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
	get := func(names ...string) (string, error) {
		for _, n := range names {
			v, ok := hsc.Lookup(n)
			if !ok || v == nil {
				continue
			}
			r, err := expr.RenderDeepIn(v, hsc)
			if err != nil {
				return "", fmt.Errorf("%s: %v", n, err)
			}
			return expr.ToString(r), nil
		}
		return "", nil
	}
	cv := ConnVars{Host: target}
	var err error
	if cv.Connection, err = get("ansible_connection"); err != nil {
		return cv, err
	}
	if h, err := get("ansible_host", "ansible_ssh_host"); err != nil {
		return cv, err
	} else if h != "" {
		cv.Host = h
	}
	if p, err := get("ansible_port", "ansible_ssh_port"); err != nil {
		return cv, err
	} else if p != "" {
		if cv.Port, err = strconv.Atoi(p); err != nil {
			return cv, fmt.Errorf("ansible_port: %q is not a port number", p)
		}
	}
	if cv.User, err = get("ansible_user", "ansible_ssh_user"); err != nil {
		return cv, err
	}
	if k, err := get("ansible_ssh_private_key_file", "ansible_private_key_file"); err != nil {
		return cv, err
	} else if k != "" {
		cv.KeyFiles = []string{k}
	}
	if cv.Password, err = get("ansible_password", "ansible_ssh_pass"); err != nil {
		return cv, err
	}
	if cv.KnownHostsFile, err = get("ansible_ssh_known_hosts_file"); err != nil {
		return cv, err
	}
	pol, err := get("tpago_host_key_policy")
	if err != nil {
		return cv, err
	}
	cv.AcceptNew = pol == "accept-new" || e.opts.AcceptNewHostKeys
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
