// Package paging turns the seed's page/page_size requests into LIMIT/OFFSET
// and fills its Pager.
package paging

import (
	"math"

	"github.com/parley-im/parley/api/gen/commonpb"
)

const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Page is a normalised page request: Number from 1, Size in 1..MaxPageSize.
type Page struct {
	Number uint64
	Size   uint64
}

// New normalises a request: page 0 means 1, page_size 0 means the default,
// and a size above the maximum is capped.
func New(page, size uint64) Page {
	if page == 0 {
		page = 1
	}
	switch {
	case size == 0:
		size = DefaultPageSize
	case size > MaxPageSize:
		size = MaxPageSize
	}
	return Page{Number: page, Size: size}
}

// Limit and Offset are the page's rows for SQL.
func (p Page) Limit() int64 { return int64(p.Size) }
func (p Page) Offset() int64 {
	if p.Number-1 > math.MaxInt64/p.Size {
		return math.MaxInt64 // far past the last row: an empty page, not an overflow
	}
	return int64((p.Number - 1) * p.Size)
}

// Pager describes this page of totalRows rows.
func (p Page) Pager(totalRows uint64) *commonpb.Pager {
	return &commonpb.Pager{
		Page:       p.Number,
		PageZie:    p.Size,
		TotalRows:  totalRows,
		TotalPages: (totalRows + p.Size - 1) / p.Size,
	}
}

// Num normalises a cursor page's num like a page size: 0 means the default,
// and more than the maximum is capped.
func Num(num uint64) uint64 {
	return New(1, num).Size
}
