package database

import (
	"math"

	"github.com/jackc/pgx/v5/pgtype"
)

// Ids are uint64 from the database to the wire (sqlc.yaml maps every id
// column so); the columns are bigint. A uint64 above bigint's range is an id
// no row has: it is sent as the largest bigint, which no id reaches, so a
// lookup of it finds nothing (NotFound) instead of failing to encode, and
// a comparison (seq < $1, id > $1) keeps its sense. Nothing stores such an
// id: every id a request names is looked up first.
func wrapIDs(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	if v, ok := value.(uint64); ok {
		return &idEncodePlan{}, idValue(v), true
	}
	return nil, nil, false
}

type idValue uint64

func (v idValue) Int64Value() (pgtype.Int8, error) {
	if v > math.MaxInt64 {
		return pgtype.Int8{Int64: math.MaxInt64, Valid: true}, nil
	}
	return pgtype.Int8{Int64: int64(v), Valid: true}, nil
}

type idEncodePlan struct{ next pgtype.EncodePlan }

func (p *idEncodePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *idEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(idValue(value.(uint64)), buf)
}

// BigintArray is ids for a bigint[] query parameter, which sqlc types
// []int64 (ids are uint64 everywhere else, as on the wire); one above
// bigint's range becomes the largest bigint, as a single id does.
func BigintArray(ids []uint64) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(min(id, math.MaxInt64))
	}
	return out
}
