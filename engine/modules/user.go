package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() {
	module.Register(&User{})
	module.Register(&Group{})
}

// User manages local user accounts.
type User struct{}

// Spec implements module.Module.
func (*User) Spec() module.Spec {
	return module.Spec{
		Name:  "user",
		Check: module.CheckPredicts,
		Doc:   "Create, change or remove a local user account, optionally with an SSH key pair",
		Args: []module.Arg{
			{Name: "name", Type: module.String, Required: true, Aliases: []string{"user"}, Doc: "login name"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "whether the account should exist"},
			{Name: "uid", Type: module.Int, Doc: "user id"},
			{Name: "group", Type: module.String, Doc: "primary group (name or gid; must exist)"},
			{Name: "groups", Type: module.List, Doc: "supplementary groups (must exist); an empty list removes them all unless append"},
			{Name: "append", Type: module.Bool, Default: false, Doc: "add to groups instead of setting the exact list"},
			{Name: "comment", Type: module.String, Doc: "the GECOS field (full name)"},
			{Name: "home", Type: module.String, Doc: "home directory"},
			{Name: "move_home", Type: module.Bool, Default: false, Doc: "move the old home directory's content when home changes"},
			{Name: "shell", Type: module.String, Doc: "login shell"},
			{Name: "system", Type: module.Bool, Default: false, Doc: "create a system account (only when creating)"},
			{Name: "create_home", Type: module.Bool, Default: true, Aliases: []string{"createhome"}, Doc: "create the home directory when creating the account"},
			{Name: "password", Type: module.String, NoLog: true, Doc: "password, already hashed (as in /etc/shadow)"},
			{Name: "update_password", Type: module.String, Default: "always", Choices: []string{"always", "on_create"}, Doc: "always: set password when it differs; on_create: only for new accounts"},
			{Name: "remove", Type: module.Bool, Default: false, Doc: "with state=absent, remove the home directory and mail spool too"},
			{Name: "force", Type: module.Bool, Default: false, Doc: "with state=absent, remove the account even if the user is logged in"},
			{Name: "generate_ssh_key", Type: module.Bool, Default: false, Doc: "create an SSH key pair for the user when there is none"},
			{Name: "ssh_key_type", Type: module.String, Default: "rsa", Doc: "type of key to generate (rsa, ed25519, ecdsa)"},
			{Name: "ssh_key_bits", Type: module.Int, Doc: "size of the key to generate (default: ssh-keygen's)"},
			{Name: "ssh_key_file", Type: module.String, Doc: "key file, relative to the home directory (default .ssh/id_<type>)"},
			{Name: "ssh_key_comment", Type: module.String, Doc: "comment of the generated key (default \"tpago-generated on <host>\")"},
			{Name: "ssh_key_passphrase", Type: module.String, NoLog: true, Doc: "passphrase of the generated key"},
		},
	}
}

const userScript = `
ent=$(getent passwd "$name")
if [ "$state" = absent ]; then
  say before "$( [ -n "$ent" ] && echo present || echo absent)"
  if [ -n "$ent" ]; then
    say changed 1
    if [ "$CHECK" = 0 ]; then
      set --
      [ "$REMOVE" = 1 ] && set -- "$@" -r
      [ "$FORCE" = 1 ] && set -- "$@" -f
      userdel "$@" "$name" >/dev/null 2>"$TMPDIR_ERR" || [ "$?" = 12 ] || die "userdel $name failed: $(cat "$TMPDIR_ERR")"
    fi
  fi
  exit 0
fi
gid=
if [ -n "$group" ]; then
  gid=$(getent group "$group" | cut -d: -f3)
  [ -n "$gid" ] || die "Group $group does not exist"
fi
if [ -n "$groups" ]; then
  for g in $(echo "$groups" | tr ',' ' '); do getent group "$g" >/dev/null || die "Group $g does not exist"; done
fi
setpw() { printf '%s:%s\n' "$name" "$password" | chpasswd -e || die "cannot set the password of $name"; }
if [ -z "$ent" ]; then
  say before absent; say changed 1; say created 1
  set --
  [ -n "$uid" ] && set -- "$@" -u "$uid"
  [ -n "$gid" ] && set -- "$@" -g "$gid"
  [ -n "$groups" ] && set -- "$@" -G "$groups"
  [ -n "$home" ] && set -- "$@" -d "$home"
  [ -n "$shell" ] && set -- "$@" -s "$shell"
  [ -n "$comment" ] && set -- "$@" -c "$comment"
  [ "$SYSTEM" = 1 ] && set -- "$@" -r
  if [ "$CREATE_HOME" = 1 ]; then set -- "$@" -m; else set -- "$@" -M; fi
  if [ "$CHECK" = 0 ]; then
    useradd "$@" "$name" 2>"$TMPDIR_ERR" || die "useradd $name failed: $(cat "$TMPDIR_ERR")"
    [ -n "$password" ] && setpw
  fi
else
  say before present
  old_ifs=$IFS; IFS=:
  set -- $ent
  IFS=$old_ifs
  cuid=$3 cgid=$4 ccomment=$5 chome=$6 cshell=$7
  set --
  chg() { say "diff_$1" "$2"; say "want_$1" "$3"; }
  if [ -n "$uid" ] && [ "$uid" != "$cuid" ]; then chg uid "$cuid" "$uid"; set -- "$@" -u "$uid"; fi
  if [ -n "$gid" ] && [ "$gid" != "$cgid" ]; then chg group "$cgid" "$gid"; set -- "$@" -g "$gid"; fi
  if [ -n "$shell" ] && [ "$shell" != "$cshell" ]; then chg shell "$cshell" "$shell"; set -- "$@" -s "$shell"; fi
  if [ -n "$comment" ] && [ "$comment" != "$ccomment" ]; then chg comment "$ccomment" "$comment"; set -- "$@" -c "$comment"; fi
  if [ -n "$home" ] && [ "$home" != "$chome" ]; then
    chg home "$chome" "$home"; set -- "$@" -d "$home"; [ "$MOVE_HOME" = 1 ] && set -- "$@" -m
  fi
  if [ "$SETGROUPS" = 1 ]; then
    pg=$(getent group "${gid:-$cgid}" | cut -d: -f1)
    cur=
    for g in $(id -Gn "$name"); do [ "$g" = "$pg" ] || cur="$cur $g"; done
    missing= extra=
    for g in $(echo "$groups" | tr ',' ' '); do
      case " $cur " in *" $g "*) ;; *) missing="$missing $g" ;; esac
    done
    if [ "$APPEND" = 0 ]; then
      for g in $cur; do
        case ",$groups," in *",$g,"*) ;; *) extra="$extra $g" ;; esac
      done
    fi
    if [ -n "$missing$extra" ]; then
      chg groups "$(echo $cur | tr ' ' ',')" "$groups"
      if [ "$APPEND" = 1 ]; then set -- "$@" -a -G "$(echo $missing | tr ' ' ',')"; else set -- "$@" -G "$groups"; fi
    fi
  fi
  pwchg=0
  if [ -n "$password" ] && [ "$UPDATE_PW" = 1 ]; then
    cpw=$(getent shadow "$name" | cut -d: -f2)
    [ "$cpw" = "$password" ] || { pwchg=1; say password_changed 1; }
  fi
  if [ $# -gt 0 ] || [ "$pwchg" = 1 ]; then
    say changed 1
    if [ "$CHECK" = 0 ]; then
      if [ $# -gt 0 ]; then usermod "$@" "$name" 2>"$TMPDIR_ERR" || die "usermod $name failed: $(cat "$TMPDIR_ERR")"; fi
      [ "$pwchg" = 1 ] && setpw
    fi
  fi
fi
ent=$(getent passwd "$name")
if [ -n "$ent" ]; then
  old_ifs=$IFS; IFS=:
  set -- $ent
  IFS=$old_ifs
  say uid "$3"; say gid "$4"; say home "$6"; say shell "$7"
  chome=$6
else
  chome=${home:-/home/$name}
fi
if [ "$GENKEY" = 1 ]; then
  case $keyfile in /*) kf=$keyfile ;; *) kf=$chome/$keyfile ;; esac
  say ssh_key_file "$kf"
  if [ ! -e "$kf" ]; then
    say changed 1; say key_generated 1
    if [ "$CHECK" = 0 ]; then
      kd=$(dirname "$kf")
      if [ ! -d "$kd" ]; then
        mkdir -p "$kd" && chmod 0700 "$kd" && chown "$name": "$kd" || die "cannot create $kd"
      fi
      set -- -q -t "$keytype" -N "$passphrase" -C "$keycomment" -f "$kf"
      [ -n "$keybits" ] && set -- "$@" -b "$keybits"
      ssh-keygen "$@" </dev/null >/dev/null 2>"$TMPDIR_ERR" || die "ssh-keygen failed: $(cat "$TMPDIR_ERR")"
      chown "$name": "$kf" "$kf.pub" || die "cannot give $kf to $name"
    fi
  fi
  if [ -e "$kf.pub" ]; then
    say ssh_public_key "$(cat "$kf.pub")"
    say ssh_fingerprint "$(ssh-keygen -l -f "$kf.pub" 2>/dev/null)"
  fi
fi
`

// Run implements module.Module.
func (*User) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	name := args.String("name")
	keyType := args.String("ssh_key_type")
	keyFile := args.String("ssh_key_file")
	if keyFile == "" {
		keyFile = ".ssh/id_" + keyType
	}
	comment := args.String("ssh_key_comment")
	if comment == "" {
		comment = "tpago-generated on " + rt.Host
	}
	uid := ""
	if args.Has("uid") {
		uid = fmt.Sprint(args.Int("uid"))
	}
	bits := ""
	if args.Has("ssh_key_bits") {
		bits = fmt.Sprint(args.Int("ssh_key_bits"))
	}
	s := newScript(rt).set("name", name).set("state", args.String("state")).set("uid", uid).set("group", args.String("group")).
		set("groups", strings.Join(args.Strings("groups"), ",")).setb("SETGROUPS", args.Has("groups")).setb("APPEND", args.Bool("append")).
		set("comment", args.String("comment")).set("home", args.String("home")).setb("MOVE_HOME", args.Bool("move_home")).
		set("shell", args.String("shell")).setb("SYSTEM", args.Bool("system")).setb("CREATE_HOME", args.Bool("create_home")).
		set("password", args.String("password")).setb("UPDATE_PW", args.String("update_password") == "always").
		setb("REMOVE", args.Bool("remove")).setb("FORCE", args.Bool("force")).setb("GENKEY", args.Bool("generate_ssh_key")).
		set("keytype", keyType).set("keybits", bits).set("keyfile", keyFile).set("keycomment", comment).
		set("passphrase", args.String("ssh_key_passphrase"))
	s.line(`TMPDIR_ERR=$(mktemp) || die "cannot create a temporary file"; trap 'rm -f "$TMPDIR_ERR"' EXIT`)
	s.line(userScript)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	state := args.String("state")
	res := &module.Result{Changed: r.flag("changed"), Data: map[string]any{"name": name, "state": state}}
	for _, k := range []string{"uid", "gid"} {
		if r.has(k) {
			res.Data[k] = r.int(k)
		}
	}
	if r.has("gid") {
		res.Data["group"] = r.int("gid") // Ansible reports the primary group's id here
	}
	for _, k := range []string{"home", "shell", "ssh_key_file", "ssh_public_key", "ssh_fingerprint"} {
		if r.has(k) {
			res.Data[k] = r.get(k)
		}
	}
	if r.flag("created") {
		res.Data["system"] = args.Bool("system")
	}
	if res.Changed && rt.Diff {
		var b, a strings.Builder
		before := r.get("before")
		if before != state {
			fmt.Fprintf(&b, "user: %s\nstate: %s\n", name, before)
			fmt.Fprintf(&a, "user: %s\nstate: %s\n", name, state)
		}
		for _, k := range []string{"uid", "group", "shell", "comment", "home", "groups"} {
			if r.has("diff_" + k) {
				fmt.Fprintf(&b, "%s: %s\n", k, r.get("diff_"+k))
				fmt.Fprintf(&a, "%s: %s\n", k, r.get("want_"+k))
			}
		}
		if r.flag("password_changed") {
			b.WriteString("password: ********\n")
			a.WriteString("password: (changed)\n")
		}
		if r.flag("key_generated") {
			b.WriteString("ssh_key: absent\n")
			a.WriteString("ssh_key: " + r.get("ssh_key_file") + "\n")
		}
		res.Diff = []module.Diff{{BeforeHeader: "user " + name, AfterHeader: "user " + name, Before: b.String(), After: a.String()}}
	}
	return res, nil
}

// Group manages local groups.
type Group struct{}

// Spec implements module.Module.
func (*Group) Spec() module.Spec {
	return module.Spec{
		Name:  "group",
		Check: module.CheckPredicts,
		Doc:   "Create, change or remove a local group",
		Args: []module.Arg{
			{Name: "name", Type: module.String, Required: true, Doc: "group name"},
			{Name: "gid", Type: module.Int, Doc: "group id"},
			{Name: "system", Type: module.Bool, Default: false, Doc: "create a system group (only when creating)"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "whether the group should exist"},
		},
	}
}

const groupScript = `
ent=$(getent group "$name")
cgid=$(echo "$ent" | cut -d: -f3)
if [ "$state" = absent ]; then
  if [ -n "$ent" ]; then
    say changed 1; say before present
    if [ "$CHECK" = 0 ]; then
      e=$(groupdel "$name" 2>&1) || die "groupdel $name failed: $e"
    fi
  fi
elif [ -z "$ent" ]; then
  say changed 1; say before absent
  set --
  [ -n "$gid" ] && set -- "$@" -g "$gid"
  [ "$SYSTEM" = 1 ] && set -- "$@" -r
  if [ "$CHECK" = 0 ]; then
    e=$(groupadd "$@" "$name" 2>&1) || die "groupadd $name failed: $e"
  fi
elif [ -n "$gid" ] && [ "$gid" != "$cgid" ]; then
  say changed 1; say before present; say gid_before "$cgid"
  if [ "$CHECK" = 0 ]; then
    e=$(groupmod -g "$gid" "$name" 2>&1) || die "groupmod $name failed: $e"
  fi
fi
say gid "$(getent group "$name" | cut -d: -f3)"
`

// Run implements module.Module.
func (*Group) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	name, state := args.String("name"), args.String("state")
	gid := ""
	if args.Has("gid") {
		gid = fmt.Sprint(args.Int("gid"))
	}
	s := newScript(rt).set("name", name).set("gid", gid).set("state", state).setb("SYSTEM", args.Bool("system"))
	s.line(groupScript)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	res := &module.Result{Changed: r.flag("changed"), Data: map[string]any{"name": name, "state": state, "system": args.Bool("system")}}
	if r.get("gid") != "" {
		res.Data["gid"] = r.int("gid")
	}
	if res.Changed && rt.Diff {
		before, after := "state: "+r.get("before")+"\n", "state: "+state+"\n"
		if r.has("gid_before") {
			before += "gid: " + r.get("gid_before") + "\n"
			after += "gid: " + gid + "\n"
		}
		res.Diff = []module.Diff{{BeforeHeader: "group " + name, AfterHeader: "group " + name, Before: before, After: after}}
	}
	return res, nil
}

var (
	_ module.Module = (*User)(nil)
	_ module.Module = (*Group)(nil)
)
