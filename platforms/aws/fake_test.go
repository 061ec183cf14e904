package aws

import (
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeEC2 is an in-process EC2 that speaks the Query API calls the
// provisioner makes (form-encoded requests, XML answers in the 2016-11-15
// namespace) and keeps what is made in memory, so that tests can check the
// requests and what exists afterwards.
type fakeEC2 struct {
	mu     sync.Mutex
	srv    *httptest.Server
	calls  []call
	seq    int
	res    []*fres // in order of creation
	byID   map[string]*fres
	images []fimage
	// console is what GetConsoleOutput returns for every instance.
	console string
	pubN    int
	// oldInstances answers GetConsoleOutput with Latest as EC2 does for
	// instances that are not on the Nitro system.
	oldInstances bool
	failAction   map[string]string // action → error code to answer with
	// busy answers an action with DependencyViolation this many times
	// more, as EC2 does while network interfaces are going away.
	busy map[string]int
}

type call struct {
	Action string
	Form   url.Values
}

// fres is one resource: a vpc, subnet, igw, rtb, sg, key or instance.
type fres struct {
	kind   string
	id     string
	tags   map[string]string
	f      map[string]string
	attach []string    // igw: attached VPCs
	routes [][2]string // rtb: destination, gateway
	assocs [][2]string // rtb: association id, subnet
	perms  []fperm     // sg
	// instance: DescribeInstances calls until it runs / is terminated.
	polls int
}

type fperm struct {
	proto, from, to, cidr string
}

type fimage struct {
	id, name, owner, created, root string
}

func newFakeEC2(t *testing.T) *fakeEC2 {
	f := &fakeEC2{byID: map[string]*fres{}, failAction: map[string]string{}, busy: map[string]int{}}
	f.images = []fimage{
		{"ami-0aaaaaaaaaaaaaaa1", "debian-12-amd64-20240201-1644", DebianOwner, "2024-02-01T17:00:00.000Z", "/dev/xvda"},
		{"ami-0bbbbbbbbbbbbbbb2", "debian-12-amd64-20240717-1811", DebianOwner, "2024-07-17T18:30:00.000Z", "/dev/xvda"},
		{"ami-0ccccccccccccccc3", "debian-12-arm64-20240717-1811", DebianOwner, "2024-07-17T18:31:00.000Z", "/dev/xvda"},
		{"ami-0ddddddddddddddd4", "debian-12-amd64-20250101-0000", "999999999999", "2025-01-01T00:00:00.000Z", "/dev/xvda"},
		{"ami-0123456789abcdef0", "my-own-image", "111122223333", "2023-05-05T00:00:00.000Z", "/dev/sda1"},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// add puts a resource there, as if made before (by someone else).
func (f *fakeEC2) add(kind, id string, tags map[string]string, fields map[string]string) *fres {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &fres{kind: kind, id: id, tags: tags, f: fields}
	if r.tags == nil {
		r.tags = map[string]string{}
	}
	if r.f == nil {
		r.f = map[string]string{}
	}
	f.res = append(f.res, r)
	f.byID[id] = r
	return r
}

func (f *fakeEC2) newID(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s-%017x", prefix, f.seq)
}

func (f *fakeEC2) create(kind, prefix string, tags map[string]string) *fres {
	r := &fres{kind: kind, id: f.newID(prefix), tags: tags, f: map[string]string{}}
	if r.tags == nil {
		r.tags = map[string]string{}
	}
	f.res = append(f.res, r)
	f.byID[r.id] = r
	return r
}

func (f *fakeEC2) remove(id string) {
	delete(f.byID, id)
	for i, r := range f.res {
		if r.id == id {
			f.res = append(f.res[:i], f.res[i+1:]...)
			return
		}
	}
}

// actions lists the actions called, in order.
func (f *fakeEC2) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var a []string
	for _, c := range f.calls {
		a = append(a, c.Action)
	}
	return a
}

// callsOf returns the forms of the calls of one action.
func (f *fakeEC2) callsOf(action string) []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []url.Values
	for _, c := range f.calls {
		if c.Action == action {
			out = append(out, c.Form)
		}
	}
	return out
}

func (f *fakeEC2) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

// ids lists the resources of a kind.
func (f *fakeEC2) ids(kind string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.res {
		if r.kind == kind {
			out = append(out, r.id)
		}
	}
	return out
}

func (f *fakeEC2) get(id string) *fres {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byID[id]
}

// list returns form[prefix.1], form[prefix.2], ….
func list(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[prefix+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

// filters reads Filter.N.Name and Filter.N.Value.M.
func filters(form url.Values) map[string][]string {
	out := map[string][]string{}
	for i := 1; ; i++ {
		n := form.Get(fmt.Sprintf("Filter.%d.Name", i))
		if n == "" {
			return out
		}
		out[n] = list(form, fmt.Sprintf("Filter.%d.Value", i))
	}
}

// tagsFor reads the tags of TagSpecification.N for a resource type.
func tagsFor(form url.Values, rt string) map[string]string {
	tags := map[string]string{}
	for i := 1; ; i++ {
		t := form.Get(fmt.Sprintf("TagSpecification.%d.ResourceType", i))
		if t == "" {
			return tags
		}
		if t != rt {
			continue
		}
		for j := 1; ; j++ {
			k, ok := form[fmt.Sprintf("TagSpecification.%d.Tag.%d.Key", i, j)]
			if !ok {
				break
			}
			tags[k[0]] = form.Get(fmt.Sprintf("TagSpecification.%d.Tag.%d.Value", i, j))
		}
	}
}

// match says whether a resource passes the filters.
func (r *fres) match(fl map[string][]string) bool {
	for name, vals := range fl {
		var have []string
		switch {
		case strings.HasPrefix(name, "tag:"):
			if v, ok := r.tags[name[4:]]; ok {
				have = []string{v}
			}
		case name == "vpc-id":
			have = []string{r.f["vpc"]}
		case name == "attachment.vpc-id":
			have = r.attach
		case name == "instance-state-name":
			have = []string{r.f["state"]}
		default:
			panic("fake EC2: filter not known: " + name)
		}
		ok := false
		for _, h := range have {
			for _, v := range vals {
				ok = ok || h == v
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (f *fakeEC2) selectRes(kind string, form url.Values, idKey string) []*fres {
	fl := filters(form)
	ids := list(form, idKey)
	var out []*fres
	for _, r := range f.res {
		if r.kind != kind || !r.match(fl) {
			continue
		}
		if len(ids) > 0 && !contains(ids, r.id) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

type apiError struct{ code, msg string }

func (f *fakeEC2) serve(w http.ResponseWriter, req *http.Request) {
	if err := req.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	if !strings.HasPrefix(req.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDFAKE/") {
		writeError(w, apiError{"AuthFailure", "not signed with the fake credentials"})
		return
	}
	form := req.PostForm
	action := form.Get("Action")
	f.mu.Lock()
	f.calls = append(f.calls, call{action, form})
	body, aerr := f.do(action, form)
	f.mu.Unlock()
	if aerr != nil {
		writeError(w, *aerr)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<%sResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>%s</%sResponse>`, action, body, action)
}

func writeError(w http.ResponseWriter, e apiError) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(400)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>`, e.code, x(e.msg))
}

func x(s string) string { return html.EscapeString(s) }

func el(name, v string) string {
	if v == "" {
		return ""
	}
	return "<" + name + ">" + x(v) + "</" + name + ">"
}

func tagSet(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("<tagSet>")
	for _, k := range keys {
		b.WriteString("<item>" + el("key", k) + "<value>" + x(tags[k]) + "</value></item>")
	}
	b.WriteString("</tagSet>")
	return b.String()
}

func vpcXML(r *fres) string {
	return el("vpcId", r.id) + el("state", "available") + el("cidrBlock", r.f["cidr"]) + "<isDefault>false</isDefault>" + tagSet(r.tags)
}

func subnetXML(r *fres) string {
	return el("subnetId", r.id) + el("vpcId", r.f["vpc"]) + el("state", "available") + el("cidrBlock", r.f["cidr"]) + el("availabilityZone", r.f["az"]) + tagSet(r.tags)
}

func igwXML(r *fres) string {
	s := el("internetGatewayId", r.id) + "<attachmentSet>"
	for _, v := range r.attach {
		s += "<item>" + el("vpcId", v) + el("state", "available") + "</item>"
	}
	return s + "</attachmentSet>" + tagSet(r.tags)
}

func rtbXML(r *fres) string {
	s := el("routeTableId", r.id) + el("vpcId", r.f["vpc"]) + "<routeSet>"
	for _, rt := range r.routes {
		s += "<item>" + el("destinationCidrBlock", rt[0]) + el("gatewayId", rt[1]) + el("state", "active") + "</item>"
	}
	s += "</routeSet><associationSet>"
	for _, a := range r.assocs {
		s += "<item>" + el("routeTableAssociationId", a[0]) + el("routeTableId", r.id) + el("subnetId", a[1]) + "<main>false</main></item>"
	}
	return s + "</associationSet>" + tagSet(r.tags)
}

func sgXML(r *fres) string {
	s := el("groupId", r.id) + el("groupName", r.f["name"]) + el("groupDescription", r.f["description"]) + el("vpcId", r.f["vpc"]) + "<ipPermissions>"
	for _, p := range r.perms {
		s += "<item>" + el("ipProtocol", p.proto)
		if p.proto != "-1" {
			s += el("fromPort", p.from) + el("toPort", p.to)
		}
		s += "<ipRanges><item>" + el("cidrIp", p.cidr) + "</item></ipRanges></item>"
	}
	return s + "</ipPermissions>" + tagSet(r.tags)
}

var stateCodes = map[string]string{"pending": "0", "running": "16", "shutting-down": "32", "terminated": "48", "stopping": "64", "stopped": "80"}

func stateXML(name, state string) string {
	return "<" + name + ">" + el("code", stateCodes[state]) + el("name", state) + "</" + name + ">"
}

func instanceXML(r *fres) string {
	return el("instanceId", r.id) + el("imageId", r.f["image"]) + stateXML("instanceState", r.f["state"]) +
		el("instanceType", r.f["type"]) + el("keyName", r.f["key"]) + el("subnetId", r.f["subnet"]) + el("vpcId", r.f["vpc"]) +
		el("privateIpAddress", r.f["priv"]) + el("ipAddress", r.f["pub"]) + tagSet(r.tags)
}

func okXML() string { return "<return>true</return>" }

func notFoundErr(code, id string) *apiError {
	return &apiError{code, fmt.Sprintf("The ID '%s' does not exist", id)}
}

// do carries out one action; the caller holds the lock.
func (f *fakeEC2) do(action string, form url.Values) (string, *apiError) {
	if code, ok := f.failAction[action]; ok {
		return "", &apiError{code, "failing on purpose"}
	}
	if f.busy[action] > 0 {
		f.busy[action]--
		return "", &apiError{"DependencyViolation", "resource has a dependent object"}
	}
	switch action {
	case "DescribeVpcs":
		ids := list(form, "VpcId")
		for _, id := range ids {
			if f.byID[id] == nil {
				return "", notFoundErr("InvalidVpcID.NotFound", id)
			}
		}
		s := "<vpcSet>"
		for _, r := range f.selectRes("vpc", form, "VpcId") {
			s += "<item>" + vpcXML(r) + "</item>"
		}
		return s + "</vpcSet>", nil
	case "CreateVpc":
		r := f.create("vpc", "vpc", tagsFor(form, "vpc"))
		r.f["cidr"] = form.Get("CidrBlock")
		return "<vpc>" + vpcXML(r) + "</vpc>", nil
	case "DeleteVpc":
		id := form.Get("VpcId")
		if f.byID[id] == nil {
			return "", notFoundErr("InvalidVpcID.NotFound", id)
		}
		for _, r := range f.res {
			if r.f["vpc"] == id && r.kind != "instance" || contains(r.attach, id) {
				return "", &apiError{"DependencyViolation", "The vpc '" + id + "' has dependencies and cannot be deleted."}
			}
		}
		f.remove(id)
		return okXML(), nil

	case "DescribeSubnets":
		s := "<subnetSet>"
		for _, r := range f.selectRes("subnet", form, "SubnetId") {
			s += "<item>" + subnetXML(r) + "</item>"
		}
		return s + "</subnetSet>", nil
	case "CreateSubnet":
		vpc := form.Get("VpcId")
		if f.byID[vpc] == nil {
			return "", notFoundErr("InvalidVpcID.NotFound", vpc)
		}
		r := f.create("subnet", "subnet", tagsFor(form, "subnet"))
		r.f["vpc"], r.f["cidr"], r.f["az"] = vpc, form.Get("CidrBlock"), form.Get("AvailabilityZone")
		if r.f["az"] == "" {
			r.f["az"] = "eu-west-1c"
		}
		return "<subnet>" + subnetXML(r) + "</subnet>", nil
	case "DeleteSubnet":
		id := form.Get("SubnetId")
		if f.byID[id] == nil {
			return "", notFoundErr("InvalidSubnetID.NotFound", id)
		}
		for _, r := range f.res {
			if r.kind == "instance" && r.f["subnet"] == id && r.f["state"] != "terminated" {
				return "", &apiError{"DependencyViolation", "The subnet '" + id + "' has dependencies and cannot be deleted."}
			}
		}
		for _, r := range f.res {
			for i, a := range r.assocs {
				if a[1] == id {
					r.assocs = append(r.assocs[:i], r.assocs[i+1:]...)
					break
				}
			}
		}
		f.remove(id)
		return okXML(), nil

	case "DescribeInternetGateways":
		s := "<internetGatewaySet>"
		for _, r := range f.selectRes("igw", form, "InternetGatewayId") {
			s += "<item>" + igwXML(r) + "</item>"
		}
		return s + "</internetGatewaySet>", nil
	case "CreateInternetGateway":
		r := f.create("igw", "igw", tagsFor(form, "internet-gateway"))
		return "<internetGateway>" + igwXML(r) + "</internetGateway>", nil
	case "AttachInternetGateway":
		r := f.byID[form.Get("InternetGatewayId")]
		if r == nil {
			return "", notFoundErr("InvalidInternetGatewayID.NotFound", form.Get("InternetGatewayId"))
		}
		r.attach = append(r.attach, form.Get("VpcId"))
		return okXML(), nil
	case "DetachInternetGateway":
		r := f.byID[form.Get("InternetGatewayId")]
		if r == nil {
			return "", notFoundErr("InvalidInternetGatewayID.NotFound", form.Get("InternetGatewayId"))
		}
		if !contains(r.attach, form.Get("VpcId")) {
			return "", &apiError{"Gateway.NotAttached", "not attached"}
		}
		r.attach = nil
		return okXML(), nil
	case "DeleteInternetGateway":
		r := f.byID[form.Get("InternetGatewayId")]
		if r == nil {
			return "", notFoundErr("InvalidInternetGatewayID.NotFound", form.Get("InternetGatewayId"))
		}
		if len(r.attach) > 0 {
			return "", &apiError{"DependencyViolation", "attached"}
		}
		f.remove(r.id)
		return okXML(), nil

	case "DescribeRouteTables":
		s := "<routeTableSet>"
		for _, r := range f.selectRes("rtb", form, "RouteTableId") {
			s += "<item>" + rtbXML(r) + "</item>"
		}
		return s + "</routeTableSet>", nil
	case "CreateRouteTable":
		r := f.create("rtb", "rtb", tagsFor(form, "route-table"))
		r.f["vpc"] = form.Get("VpcId")
		r.routes = [][2]string{{"10.0.0.0/8", "local"}}
		return "<routeTable>" + rtbXML(r) + "</routeTable>", nil
	case "CreateRoute":
		r := f.byID[form.Get("RouteTableId")]
		if r == nil {
			return "", notFoundErr("InvalidRouteTableID.NotFound", form.Get("RouteTableId"))
		}
		r.routes = append(r.routes, [2]string{form.Get("DestinationCidrBlock"), form.Get("GatewayId")})
		return okXML(), nil
	case "AssociateRouteTable":
		r := f.byID[form.Get("RouteTableId")]
		if r == nil {
			return "", notFoundErr("InvalidRouteTableID.NotFound", form.Get("RouteTableId"))
		}
		a := f.newID("rtbassoc")
		r.assocs = append(r.assocs, [2]string{a, form.Get("SubnetId")})
		return el("associationId", a), nil
	case "DisassociateRouteTable":
		for _, r := range f.res {
			for i, a := range r.assocs {
				if a[0] == form.Get("AssociationId") {
					r.assocs = append(r.assocs[:i], r.assocs[i+1:]...)
					return okXML(), nil
				}
			}
		}
		return "", notFoundErr("InvalidAssociationID.NotFound", form.Get("AssociationId"))
	case "DeleteRouteTable":
		r := f.byID[form.Get("RouteTableId")]
		if r == nil {
			return "", notFoundErr("InvalidRouteTableID.NotFound", form.Get("RouteTableId"))
		}
		if len(r.assocs) > 0 {
			return "", &apiError{"DependencyViolation", "associated"}
		}
		f.remove(r.id)
		return okXML(), nil

	case "DescribeSecurityGroups":
		s := "<securityGroupInfo>"
		for _, r := range f.selectRes("sg", form, "GroupId") {
			s += "<item>" + sgXML(r) + "</item>"
		}
		return s + "</securityGroupInfo>", nil
	case "CreateSecurityGroup":
		for _, r := range f.res {
			if r.kind == "sg" && r.f["name"] == form.Get("GroupName") && r.f["vpc"] == form.Get("VpcId") {
				return "", &apiError{"InvalidGroup.Duplicate", "The security group '" + r.f["name"] + "' already exists for VPC '" + r.f["vpc"] + "'"}
			}
		}
		r := f.create("sg", "sg", tagsFor(form, "security-group"))
		r.f["name"], r.f["description"], r.f["vpc"] = form.Get("GroupName"), form.Get("GroupDescription"), form.Get("VpcId")
		return el("groupId", r.id), nil
	case "AuthorizeSecurityGroupIngress":
		r := f.byID[form.Get("GroupId")]
		if r == nil {
			return "", notFoundErr("InvalidGroup.NotFound", form.Get("GroupId"))
		}
		for i := 1; form.Get(fmt.Sprintf("IpPermissions.%d.IpProtocol", i)) != ""; i++ {
			p := fmt.Sprintf("IpPermissions.%d.", i)
			for j := 1; form.Get(fmt.Sprintf("%sIpRanges.%d.CidrIp", p, j)) != ""; j++ {
				r.perms = append(r.perms, fperm{form.Get(p + "IpProtocol"), form.Get(p + "FromPort"), form.Get(p + "ToPort"), form.Get(fmt.Sprintf("%sIpRanges.%d.CidrIp", p, j))})
			}
		}
		return okXML(), nil
	case "DeleteSecurityGroup":
		id := form.Get("GroupId")
		if f.byID[id] == nil {
			return "", notFoundErr("InvalidGroup.NotFound", id)
		}
		for _, r := range f.res {
			if r.kind == "instance" && r.f["sg"] == id && r.f["state"] != "terminated" {
				return "", &apiError{"DependencyViolation", "resource " + id + " has a dependent object"}
			}
		}
		f.remove(id)
		return okXML(), nil

	case "DescribeKeyPairs":
		s := "<keySet>"
		for _, r := range f.selectRes("key", form, "KeyPairId") {
			s += "<item>" + el("keyPairId", r.id) + el("keyName", r.f["name"]) + el("keyFingerprint", "fp") + el("keyType", "ed25519")
			if form.Get("IncludePublicKey") == "true" {
				s += el("publicKey", r.f["public"])
			}
			s += tagSet(r.tags) + "</item>"
		}
		return s + "</keySet>", nil
	case "ImportKeyPair":
		for _, r := range f.res {
			if r.kind == "key" && r.f["name"] == form.Get("KeyName") {
				return "", &apiError{"InvalidKeyPair.Duplicate", "The keypair already exists"}
			}
		}
		pub, err := base64.StdEncoding.DecodeString(form.Get("PublicKeyMaterial"))
		if err != nil {
			return "", &apiError{"InvalidKey.Format", "Key is not in valid OpenSSH public key format"}
		}
		r := f.create("key", "key", tagsFor(form, "key-pair"))
		r.f["name"], r.f["public"] = form.Get("KeyName"), string(pub)
		return el("keyFingerprint", "fp") + el("keyName", r.f["name"]) + el("keyPairId", r.id), nil
	case "DeleteKeyPair":
		id := form.Get("KeyPairId")
		if f.byID[id] == nil {
			return "", notFoundErr("InvalidKeyPair.NotFound", id)
		}
		f.remove(id)
		return okXML(), nil

	case "DescribeImages":
		ids := list(form, "ImageId")
		owners := list(form, "Owner")
		fl := filters(form)
		s := "<imagesSet>"
		for _, im := range f.images {
			if len(ids) > 0 && !contains(ids, im.id) || len(owners) > 0 && !contains(owners, im.owner) {
				continue
			}
			if pats, ok := fl["name"]; ok {
				if m, _ := path.Match(pats[0], im.name); !m {
					continue
				}
			}
			s += "<item>" + el("imageId", im.id) + el("name", im.name) + el("imageOwnerId", im.owner) + el("creationDate", im.created) +
				el("imageState", "available") + el("architecture", "x86_64") + el("rootDeviceName", im.root) + el("rootDeviceType", "ebs") + "</item>"
		}
		for _, id := range ids {
			if !strings.Contains(s, id) {
				return "", &apiError{"InvalidAMIID.NotFound", "The image id '[" + id + "]' does not exist"}
			}
		}
		return s + "</imagesSet>", nil

	case "RunInstances":
		key := form.Get("KeyName")
		found := false
		for _, r := range f.res {
			found = found || r.kind == "key" && r.f["name"] == key
		}
		if !found {
			return "", &apiError{"InvalidKeyPair.NotFound", "The key pair '" + key + "' does not exist"}
		}
		subnet := f.byID[form.Get("NetworkInterface.1.SubnetId")]
		if subnet == nil {
			return "", notFoundErr("InvalidSubnetID.NotFound", form.Get("NetworkInterface.1.SubnetId"))
		}
		r := f.create("instance", "i", tagsFor(form, "instance"))
		n := 0
		for _, o := range f.res {
			if o.kind == "instance" {
				n++
			}
		}
		base := strings.TrimSuffix(subnet.f["cidr"], ".0/24")
		r.f = map[string]string{
			"state": "pending", "type": form.Get("InstanceType"), "image": form.Get("ImageId"), "key": key,
			"subnet": subnet.id, "vpc": subnet.f["vpc"], "sg": form.Get("NetworkInterface.1.SecurityGroupId.1"),
			"priv": form.Get("NetworkInterface.1.PrivateIpAddress"),
		}
		if r.f["priv"] == "" {
			r.f["priv"] = fmt.Sprintf("%s.%d", base, 10+n)
		}
		return el("reservationId", f.newID("r")) + el("ownerId", "111122223333") + "<instancesSet><item>" + instanceXML(r) + "</item></instancesSet>", nil
	case "DescribeInstances":
		ids := list(form, "InstanceId")
		var sel []*fres
		for _, r := range f.res {
			if r.kind != "instance" {
				continue
			}
			if len(ids) > 0 && !contains(ids, r.id) {
				continue
			}
			// Time passes: pending instances run, terminating ones end.
			r.polls++
			switch r.f["state"] {
			case "pending":
				if r.polls > 1 {
					r.f["state"] = "running"
					f.pubN++
					r.f["pub"] = fmt.Sprintf("203.0.113.%d", 10+f.pubN)
				}
			case "shutting-down":
				r.f["state"] = "terminated"
			case "stopping":
				r.f["state"] = "stopped"
			}
			if r.match(filters(form)) {
				sel = append(sel, r)
			}
		}
		s := "<reservationSet>"
		for _, r := range sel {
			s += "<item>" + el("reservationId", "r-"+r.id) + el("ownerId", "111122223333") + "<instancesSet><item>" + instanceXML(r) + "</item></instancesSet></item>"
		}
		return s + "</reservationSet>", nil
	case "StartInstances", "TerminateInstances":
		s := "<instancesSet>"
		for _, id := range list(form, "InstanceId") {
			r := f.byID[id]
			if r == nil {
				return "", notFoundErr("InvalidInstanceID.NotFound", id)
			}
			prev := r.f["state"]
			if action == "StartInstances" {
				r.f["state"], r.polls = "pending", 0
			} else {
				r.f["state"] = "shutting-down"
				delete(r.f, "pub")
			}
			s += "<item>" + el("instanceId", id) + stateXML("currentState", r.f["state"]) + stateXML("previousState", prev) + "</item>"
		}
		return s + "</instancesSet>", nil
	case "GetConsoleOutput":
		id := form.Get("InstanceId")
		if f.byID[id] == nil {
			return "", notFoundErr("InvalidInstanceID.NotFound", id)
		}
		if f.oldInstances && form.Get("Latest") == "true" {
			return "", &apiError{"UnsupportedOperation", "This instance type does not support retrieving the latest console output."}
		}
		return el("instanceId", id) + el("timestamp", "2024-07-18T10:00:00.000Z") + el("output", base64.StdEncoding.EncodeToString([]byte(f.console))), nil
	}
	return "", &apiError{"InvalidAction", "The action " + action + " is not valid for this web service."}
}
