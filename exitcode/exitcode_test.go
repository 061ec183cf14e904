package exitcode

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOf(t *testing.T) {
	assert.Equal(t, 0, Of(nil))
	assert.Equal(t, 1, Of(errors.New("x")))
	assert.Equal(t, 2, Of(Bad(errors.New("x"))))
	assert.Equal(t, 4, Of(fmt.Errorf("wrapped: %w", With(Unreachable, errors.New("x")))))
	assert.Equal(t, 1, Of(With(1, Bad(errors.New("x")))), "the outermost status wins")
	assert.Nil(t, Bad(nil))
	assert.True(t, Silent(With(2, nil)))
	assert.False(t, Silent(Bad(errors.New("x"))))
}
