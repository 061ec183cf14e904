package cluster

import (
	"fmt"
	"io"
	"os"
)

// MaxInputSize bounds the files tpago reads from its user (config.yml,
// --hostnames-from, --overrides-from): a cluster's description is a few
// kilobytes, and /dev/zero must not be read for ever.
const MaxInputSize = 4 << 20

// ReadInput reads a file given by the user, refusing one larger than
// MaxInputSize before reading it all.
func ReadInput(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a file", path)
	} else if err == nil && st.Mode().IsRegular() && st.Size() > MaxInputSize {
		return nil, tooLarge(path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxInputSize {
		return nil, tooLarge(path)
	}
	return data, nil
}

func tooLarge(path string) error {
	return fmt.Errorf("%s is larger than %d MiB: is it the right file?", path, MaxInputSize>>20)
}
