package app

import (
	"testing"

	"github.com/parley-im/parley/platform/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }
