package facts

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParse(t *testing.T) {
	out := "hostname=db1\nuname=Linux db1 6.1.0 x86_64\nos_name=Debian GNU/Linux\ndistribution_version=12.5\n" +
		"os_family_id= debian\nmemtotal_mb=2048\ncpu=4 2 2 2\nuptime=123.45\n" +
		"date=1704200645 123456789 +0100 CET\nvirt=docker\nlsb=Debian|12|bookworm|Debian GNU/Linux 12 (bookworm)\n" +
		"python=/usr/bin/python3\npython_version=3.11.2-6+deb12u6\n" +
		"mount=/dev/sda1 /srv/my\\040data ext4 rw\nmountsize=4096 100 50 60 1000 900 /srv/my data\n" +
		"interface=lo\ninterface=eth0\n__tpago_env__\nPATH=/bin\x00MULTI=a\nb\x00"
	f := Parse([]byte(out))
	assert.Equal(t, "Debian", f["distribution"])
	assert.Equal(t, "12", f["distribution_major_version"])
	assert.Equal(t, "Debian", f["os_family"])
	assert.Equal(t, "Debian", f["distribution_file_variety"])
	assert.Equal(t, "x86_64", f["machine"])
	assert.Equal(t, 2, f["processor_count"])
	assert.Equal(t, 2, f["processor_cores"])
	assert.Equal(t, 4, f["processor_vcpus"])
	assert.Equal(t, 123, f["uptime_seconds"])
	assert.Equal(t, "docker", f["virtualization_type"])
	assert.Equal(t, "guest", f["virtualization_role"])
	assert.Equal(t, "3.11.2", f["python_version"])
	assert.Equal(t, map[string]any{"major": 3, "minor": 11, "micro": 2, "releaselevel": "final", "serial": 0}, f["python"].(map[string]any)["version"])
	assert.Equal(t, []any{"lo", "eth0"}, f["interfaces"])
	assert.Equal(t, map[string]any{"PATH": "/bin", "MULTI": "a\nb"}, f["env"])
	m := f["mounts"].([]any)[0].(map[string]any)
	assert.Equal(t, "/srv/my data", m["mount"])
	assert.Equal(t, int64(409600), m["size_total"])
	assert.Equal(t, int64(204800), m["size_available"])
	dt := f["date_time"].(map[string]any)
	// 2024-01-02 13:04:05.123456 UTC, 14:04:05 in CET.
	assert.Equal(t, "2024-01-02", dt["date"])
	assert.Equal(t, "14:04:05", dt["time"])
	assert.Equal(t, "2024-01-02T13:04:05Z", dt["iso8601"])
	assert.Equal(t, "2024-01-02T13:04:05.123456Z", dt["iso8601_micro"])
	assert.Equal(t, "20240102T140405123456", dt["iso8601_basic"])
	assert.Equal(t, "Tuesday", dt["weekday"])
	assert.Equal(t, "2", dt["weekday_number"])
	assert.Equal(t, "01", dt["weeknumber"])
	assert.Equal(t, "+0100", dt["tz_offset"])
	assert.Equal(t, "CET", dt["tz"])
	assert.Equal(t, "12", f["lsb"].(map[string]any)["major_release"])
}

func TestFilter(t *testing.T) {
	f := map[string]any{"ansible_distribution": 1, "ansible_distribution_version": 2, "ansible_hostname": 3}
	assert.Len(t, Filter(f, []string{"ansible_distribution*"}), 2)
	assert.Len(t, Filter(f, nil), 3)
	assert.Error(t, ValidPattern("["))
}
