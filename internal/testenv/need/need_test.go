package need

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestString(t *testing.T) {
	assert.Equal(t, "Docker, root, sshd", (Docker | Root | SSHD).String())
	assert.Equal(t, "root", Root.String())
}

func TestMissingSaysHowToGetIt(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no.sock"))
	dockerOnce, dockerRes = sync.Once{}, nil
	msg := Missing(Docker)
	assert.Contains(t, msg, "Docker, which is not reachable")
	assert.Contains(t, msg, "sh scripts/setup.sh")
	if os.Geteuid() == 0 {
		assert.Empty(t, Missing(Root))
	} else {
		assert.Contains(t, Missing(Root), "must run as root")
	}
	assert.Empty(t, Missing(0))
}
