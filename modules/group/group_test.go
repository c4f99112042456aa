package group_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/modules/group"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
)

func TestCreateGroup(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner := e.newUser(t)
	name := testkit.Unique("Café 张三的群 ")

	resp, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{
		Name:         "  " + name + "  ",
		Introduction: "We talk.\nA lot.",
		AvatarUrl:    "https://cdn.example.com/g.png",
	})
	require.NoError(t, err)
	g := resp.GetGroup()
	require.NotZero(t, g.GetId())
	require.Equal(t, name, g.GetName(), "name is stored trimmed")
	require.Equal(t, "We talk.\nA lot.", g.GetIntroduction())
	require.Equal(t, "https://cdn.example.com/g.png", g.GetAvatarUrl())
	require.Equal(t, owner.id, g.GetUserId(), "the caller owns the group")
	require.NotNil(t, g.GetCreatedAt())
	require.NotNil(t, g.GetUpdatedAt())
	require.WithinDuration(t, time.Now(), g.GetCreatedAt().AsTime(), time.Minute)
	require.Nil(t, g.GetDeletedAt())

	got := e.getGroup(t, owner, g.GetId())
	require.Equal(t, name, got.GetName())
	require.Equal(t, owner.id, got.GetUserId())
	require.Equal(t, g.GetCreatedAt().AsTime(), got.GetCreatedAt().AsTime())

	require.Equal(t, []uint64{owner.id}, e.memberIDs(t, g.GetId()), "the owner is the first member")

	t.Run("GetGroupUser lists the owner", func(t *testing.T) {
		ids, total := e.memberList(t, owner, g.GetId())
		require.Equal(t, []uint64{owner.id}, ids)
		require.Equal(t, uint64(1), total)
	})

	t.Run("empty introduction and avatar", func(t *testing.T) {
		resp, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{Name: testkit.Unique("plain")})
		require.NoError(t, err)
		require.Empty(t, resp.GetGroup().GetIntroduction())
		require.Empty(t, resp.GetGroup().GetAvatarUrl())
	})
	t.Run("same name twice makes two groups", func(t *testing.T) {
		again, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{Name: name})
		require.NoError(t, err)
		require.NotEqual(t, g.GetId(), again.GetGroup().GetId())
	})
	t.Run("anonymous", func(t *testing.T) {
		_, err := e.groups.CreateGroup(anonymous, &grouppb.CreateGroupRequest{Name: testkit.Unique("anon")})
		testkit.RequireCode(t, err, codes.Unauthenticated)
	})
}

func TestUpdateGroup(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, member := e.newUser(t), e.newUser(t)
	created, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{
		Name: testkit.Unique("before"), Introduction: "old intro", AvatarUrl: "http://example.com/old.png",
	})
	require.NoError(t, err)
	g := created.GetGroup()
	e.join(t, member, g.GetId())

	newName := testkit.Unique("after")
	_, err = e.groups.UpdateGroup(owner.ctx, &grouppb.UpdateGroupRequest{Id: g.GetId(), Name: "  " + newName + " "})
	require.NoError(t, err)
	got := e.getGroup(t, member, g.GetId())
	require.Equal(t, newName, got.GetName(), "name changes, trimmed")
	require.Equal(t, "old intro", got.GetIntroduction(), "an empty introduction keeps the old one")
	require.Equal(t, "http://example.com/old.png", got.GetAvatarUrl(), "an empty avatar_url keeps the old one")
	require.True(t, got.GetUpdatedAt().AsTime().After(g.GetUpdatedAt().AsTime()), "updated_at moves")
	require.Equal(t, g.GetCreatedAt().AsTime(), got.GetCreatedAt().AsTime(), "created_at stays")
	require.Equal(t, owner.id, got.GetUserId())

	_, err = e.groups.UpdateGroup(owner.ctx, &grouppb.UpdateGroupRequest{
		Id: g.GetId(), Name: "   ", Introduction: "new intro", AvatarUrl: "https://example.com/new.png",
	})
	require.NoError(t, err)
	again := e.getGroup(t, owner, g.GetId())
	require.Equal(t, newName, again.GetName(), "a blank name keeps the old one")
	require.Equal(t, "new intro", again.GetIntroduction())
	require.Equal(t, "https://example.com/new.png", again.GetAvatarUrl())
	require.True(t, again.GetUpdatedAt().AsTime().After(got.GetUpdatedAt().AsTime()), "updated_at moves again")

	t.Run("the search follows the new name", func(t *testing.T) {
		names := func(keyword string) []string {
			resp, err := e.groups.QueryGroup(owner.ctx, &grouppb.QueryGroupRequest{Keyword: keyword, PageSize: 100})
			require.NoError(t, err)
			var out []string
			for _, g := range resp.GetGroup() {
				out = append(out, g.GetName())
			}
			return out
		}
		require.Equal(t, []string{newName}, names(strings.ToUpper(newName)))
		require.Empty(t, names(g.GetName()))
	})
	t.Run("only the owner", func(t *testing.T) {
		_, err := e.groups.UpdateGroup(member.ctx, &grouppb.UpdateGroupRequest{Id: g.GetId(), Name: testkit.Unique("hijack")})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		require.Equal(t, newName, e.getGroup(t, owner, g.GetId()).GetName())
	})
	t.Run("missing group", func(t *testing.T) {
		_, err := e.groups.UpdateGroup(owner.ctx, &grouppb.UpdateGroupRequest{Id: 1 << 60, Name: testkit.Unique("x")})
		testkit.RequireCode(t, err, codes.NotFound)
	})
}

func TestGetGroup(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, stranger := e.newUser(t), e.newUser(t)
	g := e.createGroup(t, owner)

	got := e.getGroup(t, stranger, g.GetId()) // any signed-in user, member or not
	require.Equal(t, g.GetId(), got.GetId())
	require.Equal(t, g.GetName(), got.GetName())

	_, err := e.groups.GetGroup(stranger.ctx, &grouppb.GetGroupRequest{Id: 1 << 60})
	testkit.RequireCode(t, err, codes.NotFound)
	_, err = e.groups.GetGroup(anonymous, &grouppb.GetGroupRequest{Id: g.GetId()})
	testkit.RequireCode(t, err, codes.Unauthenticated)
}

func TestDeleteGroup(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner, member, outsider := e.newUser(t), e.newUser(t), e.newUser(t)
	tag := testkit.Unique("del")
	resp, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{Name: "doomed " + tag})
	require.NoError(t, err)
	g := resp.GetGroup()
	e.join(t, member, g.GetId())
	id := g.GetId()

	_, err = e.groups.DeleteGroup(member.ctx, &grouppb.DeleteGroupRequest{Id: id})
	testkit.RequireCode(t, err, codes.PermissionDenied)
	e.getGroup(t, outsider, id) // still there

	_, err = e.groups.DeleteGroup(owner.ctx, &grouppb.DeleteGroupRequest{Id: id})
	require.NoError(t, err)

	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"GetGroup", func() error {
			_, err := e.groups.GetGroup(owner.ctx, &grouppb.GetGroupRequest{Id: id})
			return err
		}},
		{"UpdateGroup", func() error {
			_, err := e.groups.UpdateGroup(owner.ctx, &grouppb.UpdateGroupRequest{Id: id, Name: testkit.Unique("revive")})
			return err
		}},
		{"JoinGroup", func() error {
			_, err := e.groups.JoinGroup(outsider.ctx, &grouppb.JoinGroupRequest{Id: id})
			return err
		}},
		{"JoinGroup by a member adding another", func() error {
			_, err := e.groups.JoinGroup(member.ctx, &grouppb.JoinGroupRequest{Id: id, UserId: outsider.id})
			return err
		}},
		{"QuitGroup", func() error {
			_, err := e.groups.QuitGroup(member.ctx, &grouppb.QuitGroupRequest{Id: id})
			return err
		}},
		{"QuitGroup by the owner removing a member", func() error {
			_, err := e.groups.QuitGroup(owner.ctx, &grouppb.QuitGroupRequest{Id: id, UserId: member.id})
			return err
		}},
		{"GetGroupUser", func() error {
			_, err := e.getGroupUser(owner.ctx, &grouppb.GetGroupUserRequest{Id: id})
			return err
		}},
		{"DeleteGroup again", func() error {
			_, err := e.groups.DeleteGroup(owner.ctx, &grouppb.DeleteGroupRequest{Id: id})
			return err
		}},
		{"MemberIDsAfter", func() error {
			_, err := e.mod.MemberIDsAfter(ctx, id, 0, 10)
			require.ErrorIs(t, err, group.ErrNotFound)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testkit.RequireCode(t, tc.call(), codes.NotFound)
		})
	}

	t.Run("absent from QueryGroup", func(t *testing.T) {
		resp, err := e.groups.QueryGroup(owner.ctx, &grouppb.QueryGroupRequest{Keyword: tag})
		require.NoError(t, err)
		require.Empty(t, resp.GetGroup())
		require.Zero(t, resp.GetPager().GetTotalRows())
	})
	t.Run("Go API", func(t *testing.T) {
		testkit.RequireCode(t, e.mod.MaySend(ctx, id, owner.id), codes.NotFound)
		for _, p := range []person{owner, member} {
			isMember, err := e.mod.IsMember(ctx, id, p.id)
			require.NoError(t, err)
			require.False(t, isMember)
		}
	})
}

func TestQueryGroup(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner := e.newUser(t)
	tag := testkit.Unique("q")
	for _, name := range []string{"张三的群", "张伟", "李四", "Anna", "JOHANNA", "bob", "张已删除"} {
		_, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{Name: name + tag})
		require.NoError(t, err)
	}
	query := func(keyword string, page, size uint64) *grouppb.QueryGroupResponse {
		t.Helper()
		resp, err := e.groups.QueryGroup(owner.ctx, &grouppb.QueryGroupRequest{Keyword: keyword, Page: page, PageSize: size})
		require.NoError(t, err)
		return resp
	}
	// names returns the names of this test's groups in resp, without the tag.
	names := func(resp *grouppb.QueryGroupResponse) []string {
		var out []string
		for _, g := range resp.GetGroup() {
			if strings.HasSuffix(g.GetName(), tag) {
				out = append(out, strings.TrimSuffix(g.GetName(), tag))
			}
		}
		return out
	}
	deleted := query("张已删除"+tag, 1, 10).GetGroup()
	require.Len(t, deleted, 1)
	_, err := e.groups.DeleteGroup(owner.ctx, &grouppb.DeleteGroupRequest{Id: deleted[0].GetId()})
	require.NoError(t, err)

	for _, tt := range []struct {
		keyword string
		want    []string
	}{
		{"张", []string{"张三的群", "张伟"}},
		{"张三的群", []string{"张三的群"}},
		{"三的", []string{"张三的群"}},
		{"四" + tag, []string{"李四"}},
		{"ANNA" + tag, []string{"Anna", "JOHANNA"}},
		{"anna", []string{"Anna", "JOHANNA"}},
		{"  JoHaNnA  ", []string{"JOHANNA"}},
		{"b" + tag, []string{"bob"}},
		{"已删除", nil},
		{"nobody-has-this" + tag, nil},
	} {
		t.Run(tt.keyword, func(t *testing.T) {
			require.Equal(t, tt.want, names(query(tt.keyword, 1, 100)))
		})
	}

	t.Run("paging", func(t *testing.T) {
		first := query(tag, 0, 4)
		require.Equal(t, &commonpb.Pager{Page: 1, PageZie: 4, TotalRows: 6, TotalPages: 2}, pager(first.GetPager()),
			"the deleted group is not counted")
		require.Len(t, first.GetGroup(), 4)
		second := query(tag, 2, 4)
		require.Equal(t, &commonpb.Pager{Page: 2, PageZie: 4, TotalRows: 6, TotalPages: 2}, pager(second.GetPager()))
		require.Len(t, second.GetGroup(), 2)
		var ids []uint64
		for _, g := range append(first.GetGroup(), second.GetGroup()...) {
			ids = append(ids, g.GetId())
			require.Nil(t, g.GetDeletedAt())
		}
		require.Equal(t, sorted(ids...), ids, "ordered by id")
		require.NotContains(t, ids, deleted[0].GetId())
		require.Equal(t, []string{"张三的群", "张伟", "李四", "Anna", "JOHANNA", "bob"}, names(query(tag, 1, 100)),
			"by id, which is creation order")
		third := query(tag, 3, 4)
		require.Empty(t, third.GetGroup())
		require.Equal(t, uint64(6), third.GetPager().GetTotalRows())
	})
	t.Run("page size defaults to 20 and is capped at 100", func(t *testing.T) {
		require.Equal(t, uint64(20), query(tag, 1, 0).GetPager().GetPageZie())
		require.Equal(t, uint64(100), query(tag, 1, 1000).GetPager().GetPageZie())
		require.Equal(t, uint64(1), query(tag, 1, 1000).GetPager().GetTotalPages())
	})
	t.Run("empty keyword lists live groups", func(t *testing.T) {
		resp := query("", 1, 100)
		p := resp.GetPager()
		require.GreaterOrEqual(t, p.GetTotalRows(), uint64(6))
		require.Equal(t, (p.GetTotalRows()+99)/100, p.GetTotalPages())
		for _, g := range resp.GetGroup() {
			require.NotEqual(t, deleted[0].GetId(), g.GetId())
		}
		require.Equal(t, sorted(groupIDs(resp)...), groupIDs(resp), "ordered by id")
	})
	t.Run("anonymous", func(t *testing.T) {
		_, err := e.groups.QueryGroup(anonymous, &grouppb.QueryGroupRequest{Keyword: tag})
		testkit.RequireCode(t, err, codes.Unauthenticated)
	})
}

func pager(p *commonpb.Pager) *commonpb.Pager {
	return &commonpb.Pager{Page: p.GetPage(), PageZie: p.GetPageZie(), TotalRows: p.GetTotalRows(), TotalPages: p.GetTotalPages()}
}

func groupIDs(resp *grouppb.QueryGroupResponse) []uint64 {
	ids := make([]uint64, len(resp.GetGroup()))
	for i, g := range resp.GetGroup() {
		ids[i] = g.GetId()
	}
	return ids
}

// TestGroupNameSearchUsesIndex shows the search query is served by the gram
// index rather than a sequential scan once the table is large.
func TestGroupNameSearchUsesIndex(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	ctx := context.Background()
	// A separate copy of the groups table keeps these rows out of the other
	// tests; it goes when the test ends, so -count=N runs it afresh.
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP TABLE IF EXISTS groups.groups_explain") })
	_, err := pool.Exec(ctx, `
		CREATE TABLE groups.groups_explain (LIKE groups.groups INCLUDING ALL);
		INSERT INTO groups.groups_explain (name, name_folded, owner_id)
		SELECT 'group' || i, 'group' || i, i FROM generate_series(1, 100000) AS i;
		INSERT INTO groups.groups_explain (name, name_folded, owner_id)
		SELECT '张三的群' || i, '张三的群' || i, i FROM generate_series(1, 5) AS i;
		ANALYZE groups.groups_explain;`)
	require.NoError(t, err)
	var index string
	require.NoError(t, pool.QueryRow(ctx, `SELECT indexname FROM pg_indexes
		WHERE schemaname = 'groups' AND tablename = 'groups_explain' AND indexdef LIKE '%grams%'`).Scan(&index))

	const where = `FROM groups.groups_explain
		WHERE search.grams(name_folded) @> search.keyword_grams($1::text)
		  AND strpos(name_folded, $1::text) > 0 AND deleted_at IS NULL`
	for _, tc := range []struct {
		keyword string
		matches int
	}{
		{"张", 5}, // one CJK character
		{"张三", 5},
		{"group4242", 11}, // group4242 and group42420…42429
		{"p99999", 1},
	} {
		t.Run(tc.keyword, func(t *testing.T) {
			var n int
			require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) "+where, tc.keyword).Scan(&n))
			require.Equal(t, tc.matches, n)

			var plan strings.Builder
			rows, err := pool.Query(ctx, "EXPLAIN SELECT * "+where+" ORDER BY id LIMIT 20 OFFSET 0", tc.keyword)
			require.NoError(t, err)
			for rows.Next() {
				var line string
				require.NoError(t, rows.Scan(&line))
				plan.WriteString(line + "\n")
			}
			require.NoError(t, rows.Err())
			require.Contains(t, plan.String(), index, plan.String())
			require.NotContains(t, plan.String(), "Seq Scan", plan.String())
		})
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner := e.newUser(t)
	g := e.createGroup(t, owner)
	id := g.GetId()
	create := func(r *grouppb.CreateGroupRequest) error {
		_, err := e.groups.CreateGroup(owner.ctx, r)
		return err
	}
	update := func(r *grouppb.UpdateGroupRequest) error {
		_, err := e.groups.UpdateGroup(owner.ctx, r)
		return err
	}
	long := func(s string, n int) string { return strings.Repeat(s, n) }
	tooLongURL := "https://example.com/" + long("a", 1024-len("https://example.com/")+1)

	for _, tc := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"create: empty name", func() error { return create(&grouppb.CreateGroupRequest{}) }, "name"},
		{"create: blank name", func() error { return create(&grouppb.CreateGroupRequest{Name: " \t "}) }, "name"},
		{"create: name of 65 characters", func() error { return create(&grouppb.CreateGroupRequest{Name: long("张", 65)}) }, "name"},
		{"create: name with NUL", func() error { return create(&grouppb.CreateGroupRequest{Name: "a\x00b"}) }, "name"},
		{"create: name with newline", func() error { return create(&grouppb.CreateGroupRequest{Name: "a\nb"}) }, "name"},
		{"create: introduction of 1001 characters", func() error {
			return create(&grouppb.CreateGroupRequest{Name: testkit.Unique("v"), Introduction: long("介", 1001)})
		}, "introduction"},
		{"create: avatar_url not http", func() error {
			return create(&grouppb.CreateGroupRequest{Name: testkit.Unique("v"), AvatarUrl: "ftp://example.com/a.png"})
		}, "avatar_url"},
		{"create: avatar_url javascript", func() error {
			return create(&grouppb.CreateGroupRequest{Name: testkit.Unique("v"), AvatarUrl: "javascript:alert(1)"})
		}, "avatar_url"},
		{"create: avatar_url relative", func() error {
			return create(&grouppb.CreateGroupRequest{Name: testkit.Unique("v"), AvatarUrl: "/a.png"})
		}, "avatar_url"},
		{"create: avatar_url of 1025 bytes", func() error {
			return create(&grouppb.CreateGroupRequest{Name: testkit.Unique("v"), AvatarUrl: tooLongURL})
		}, "avatar_url"},
		{"update: id 0", func() error { return update(&grouppb.UpdateGroupRequest{Name: testkit.Unique("v")}) }, "id"},
		{"update: name of 65 characters", func() error { return update(&grouppb.UpdateGroupRequest{Id: id, Name: long("a", 65)}) }, "name"},
		{"update: name with control character", func() error {
			return update(&grouppb.UpdateGroupRequest{Id: id, Name: "\x1b[31mred"})
		}, "name"},
		{"update: introduction of 1001 characters", func() error {
			return update(&grouppb.UpdateGroupRequest{Id: id, Introduction: long("i", 1001)})
		}, "introduction"},
		{"update: bad avatar_url", func() error {
			return update(&grouppb.UpdateGroupRequest{Id: id, AvatarUrl: "example.com/a.png"})
		}, "avatar_url"},
		{"get: id 0", func() error { _, err := e.groups.GetGroup(owner.ctx, &grouppb.GetGroupRequest{}); return err }, "id"},
		{"delete: id 0", func() error {
			_, err := e.groups.DeleteGroup(owner.ctx, &grouppb.DeleteGroupRequest{})
			return err
		}, "id"},
		{"join: id 0", func() error {
			_, err := e.groups.JoinGroup(owner.ctx, &grouppb.JoinGroupRequest{UserId: owner.id})
			return err
		}, "id"},
		{"quit: id 0", func() error {
			_, err := e.groups.QuitGroup(owner.ctx, &grouppb.QuitGroupRequest{UserId: owner.id})
			return err
		}, "id"},
		{"GetGroupUser: id 0", func() error {
			_, err := e.getGroupUser(owner.ctx, &grouppb.GetGroupUserRequest{})
			return err
		}, "id"},
		{"query: keyword of 65 characters", func() error {
			_, err := e.groups.QueryGroup(owner.ctx, &grouppb.QueryGroupRequest{Keyword: long("k", 65)})
			return err
		}, "keyword"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := testkit.RequireCode(t, tc.call(), codes.InvalidArgument)
			require.True(t, strings.HasPrefix(st.Message(), tc.field+": "), "message %q names %s", st.Message(), tc.field)
		})
	}

	t.Run("rejected updates change nothing", func(t *testing.T) {
		got := e.getGroup(t, owner, id)
		require.Equal(t, g.GetName(), got.GetName())
		require.Empty(t, got.GetIntroduction())
		require.Empty(t, got.GetAvatarUrl())
	})

	t.Run("boundaries are accepted", func(t *testing.T) {
		name := testkit.Unique(long("张", 56)) // 56 + 8 hex = 64 characters
		require.Equal(t, 64, len([]rune(name)))
		intro := long("介", 1000)
		avatar := "http://example.com/" + long("a", 1024-len("http://example.com/"))
		resp, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{Name: name, Introduction: intro, AvatarUrl: avatar})
		require.NoError(t, err)
		got := e.getGroup(t, owner, resp.GetGroup().GetId())
		require.Equal(t, name, got.GetName())
		require.Equal(t, intro, got.GetIntroduction())
		require.Equal(t, avatar, got.GetAvatarUrl())

		name2 := testkit.Unique(long("名", 56))
		require.Equal(t, 64, len([]rune(name2)))
		_, err = e.groups.UpdateGroup(owner.ctx, &grouppb.UpdateGroupRequest{Id: id, Name: name2, Introduction: long("i", 1000), AvatarUrl: avatar})
		require.NoError(t, err)
		require.Equal(t, name2, e.getGroup(t, owner, id).GetName())

		_, err = e.groups.QueryGroup(owner.ctx, &grouppb.QueryGroupRequest{Keyword: long("张", 64)})
		require.NoError(t, err, "a keyword as long as a name")
		resp, err = e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{Name: " 群 "})
		require.NoError(t, err, "a one-character name")
		require.Equal(t, "群", resp.GetGroup().GetName())
	})
}

// TestNULIsInvalidArgument: PostgreSQL text cannot hold NUL, so a request
// carrying one must be refused as InvalidArgument naming the field, not fail
// in the database as Internal. Names are checked (validate.PlainText); the
// introduction and the search keyword are not.
func TestNULIsInvalidArgument(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner := e.newUser(t)
	g := e.createGroup(t, owner)
	for _, tc := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"CreateGroup introduction", func() error {
			_, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{Name: testkit.Unique("nul"), Introduction: "a\x00b"})
			return err
		}, "introduction"},
		{"UpdateGroup introduction", func() error {
			_, err := e.groups.UpdateGroup(owner.ctx, &grouppb.UpdateGroupRequest{Id: g.GetId(), Introduction: "a\x00b"})
			return err
		}, "introduction"},
		{"QueryGroup keyword", func() error {
			_, err := e.groups.QueryGroup(owner.ctx, &grouppb.QueryGroupRequest{Keyword: "a\x00b"})
			return err
		}, "keyword"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := testkit.RequireCode(t, tc.call(), codes.InvalidArgument)
			require.True(t, strings.HasPrefix(st.Message(), tc.field+": "), "message %q names %s", st.Message(), tc.field)
		})
	}
}

// Group names follow the nickname rule (identity.Name): invisible and
// direction characters are refused, width forms are normalised. Names are
// not unique (a group is known by its id and owner), so no skeleton check.
func TestGroupNamesFollowTheIdentityRule(t *testing.T) {
	t.Parallel()
	e := setup(t, 0)
	owner := e.newUser(t)
	for name, want := range map[string]string{
		"book\u200bclub":  "U+200B",
		"\u202ebulc koob": "U+202E",
		"club\u2800":      "U+2800",
		"\u3164":          "U+3164",
	} {
		_, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{Name: name})
		st := testkit.RequireCode(t, err, codes.InvalidArgument)
		require.Contains(t, st.Message(), "name: ", "%q", name)
		require.Contains(t, st.Message(), want, "%q", name)
	}

	created, err := e.groups.CreateGroup(owner.ctx, &grouppb.CreateGroupRequest{Name: "\uff22ook  club"})
	require.NoError(t, err)
	require.Equal(t, "Book club", created.GetGroup().GetName())

	_, err = e.groups.UpdateGroup(owner.ctx, &grouppb.UpdateGroupRequest{Id: created.GetGroup().GetId(), Name: "Book club\u00ad"})
	testkit.RequireCode(t, err, codes.InvalidArgument)
	_, err = e.groups.UpdateGroup(owner.ctx, &grouppb.UpdateGroupRequest{Id: created.GetGroup().GetId(), Name: "\uff2eovel club"})
	require.NoError(t, err)
	require.Equal(t, "Novel club", e.getGroup(t, owner, created.GetGroup().GetId()).GetName())
}
