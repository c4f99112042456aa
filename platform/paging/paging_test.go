package paging_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/paging"
)

func TestNew(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		page, size uint64
		want       paging.Page
	}{
		{"zero page is the first", 0, 10, paging.Page{Number: 1, Size: 10}},
		{"zero size is the default", 3, 0, paging.Page{Number: 3, Size: paging.DefaultPageSize}},
		{"both zero", 0, 0, paging.Page{Number: 1, Size: 20}},
		{"size at the maximum kept", 2, 100, paging.Page{Number: 2, Size: 100}},
		{"size above the maximum capped", 2, 101, paging.Page{Number: 2, Size: paging.MaxPageSize}},
		{"enormous size capped", 1, math.MaxUint64, paging.Page{Number: 1, Size: 100}},
		{"size one kept", 5, 1, paging.Page{Number: 5, Size: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, paging.New(tc.page, tc.size))
		})
	}
}

func TestOffsetLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		page, size    uint64
		offset, limit int64
	}{
		{"first page", 1, 20, 0, 20},
		{"page zero is the first", 0, 20, 0, 20},
		{"third page", 3, 20, 40, 20},
		{"default size", 2, 0, 20, 20},
		{"capped size", 2, 500, 100, 100},
		{"largest offset that fits", math.MaxInt64/20 + 1, 20, math.MaxInt64 / 20 * 20, 20},
		{"one page past the largest offset", math.MaxInt64/20 + 2, 20, math.MaxInt64, 20},
		{"size one up to MaxInt64", 1 << 63, 1, math.MaxInt64, 1},
		{"size one past MaxInt64", 1<<63 + 1, 1, math.MaxInt64, 1},
		{"enormous page", math.MaxUint64, 100, math.MaxInt64, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := paging.New(tc.page, tc.size)
			require.Equal(t, tc.offset, p.Offset())
			require.GreaterOrEqual(t, p.Offset(), int64(0))
			require.Equal(t, tc.limit, p.Limit())
		})
	}
}

func TestPager(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		page, size uint64
		rows       uint64
		totalPages uint64
	}{
		{"no rows, no pages", 1, 20, 0, 0},
		{"one row", 1, 20, 1, 1},
		{"exactly one page", 1, 20, 20, 1},
		{"one row over rounds up", 1, 20, 21, 2},
		{"exact multiple", 2, 10, 100, 10},
		{"partial last page", 2, 10, 101, 11},
		{"size one", 1, 1, 7, 7},
		{"default size", 0, 0, 41, 3},
		{"page past the end", 9, 20, 5, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := paging.New(tc.page, tc.size)
			got := p.Pager(tc.rows)
			require.Equal(t, p.Number, got.GetPage())
			require.Equal(t, p.Size, got.GetPageZie())
			require.Equal(t, tc.rows, got.GetTotalRows())
			require.Equal(t, tc.totalPages, got.GetTotalPages())
		})
	}
}
