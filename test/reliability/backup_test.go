package reliability

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// backupRestore takes a backup with tpago backup, writes more, and has
// tpago restore-test restore the backup plus WAL on a scratch container:
// every acknowledged row is there.
func backupRestore(t *testing.T, c *cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	primary, ok := c.primaryNow(ctx, "")
	require.True(t, ok)
	_, err := c.psql(ctx, primary, "postgres", "CREATE TABLE rel_backup (id int PRIMARY KEY, v text); INSERT INTO rel_backup SELECT g, md5(g::text) FROM generate_series(1, 1000) g")
	require.NoError(t, err)

	t0 := time.Now()
	out, err := tpago(ctx, "backup", c.Dir)
	require.NoError(t, err, "tpago backup: %s", out)
	took := time.Since(t0)
	assert.Contains(t, out, "done in")

	// Writes after the backup come back from the WAL.
	_, err = c.psql(ctx, primary, "postgres", "INSERT INTO rel_backup SELECT g, md5(g::text) FROM generate_series(1001, 1500) g; UPDATE rel_backup SET v = 'changed' WHERE id % 7 = 0; DELETE FROM rel_backup WHERE id % 11 = 0")
	require.NoError(t, err)
	want, err := c.psql(ctx, primary, "postgres", "SELECT count(*) FROM rel_backup")
	require.NoError(t, err)

	t1 := time.Now()
	out, err = tpago(ctx, "restore-test", c.Dir)
	require.NoError(t, err, "tpago restore-test: %s", out)
	assert.Regexp(t, regexp.MustCompile(fmt.Sprintf(`postgres\.public\.rel_backup\s+%s\s+%s\s+same`, want, want)), out)
	assert.Contains(t, out, "row counts and checksums match")
	t.Logf("FIGURES backup: tpago backup %.1fs; restore-test %.1fs (%s rows in rel_backup)\n%s", took.Seconds(), time.Since(t1).Seconds(), want, out)
	// The scratch container is gone.
	left, err := c.sh(ctx, c.Nodes[0], "true")
	require.NoError(t, err, left)
	_, err = dockerCli.ContainerInspect(ctx, c.Name+"-restore-test")
	assert.Error(t, err, "the scratch container is left behind")
}
