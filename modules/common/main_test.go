package common_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/common"
	"github.com/parley-im/parley/modules/user"
	"github.com/parley-im/parley/platform/grpcserver"
	"github.com/parley-im/parley/platform/media"
	"github.com/parley-im/parley/platform/storage"
	"github.com/parley-im/parley/platform/testdb"
	"github.com/parley-im/parley/platform/testkit"
	"github.com/parley-im/parley/platform/testserver"
)

// The package's tests share one database, and with it the River job table
// in the common schema: every started module works every queued email. So
// the tests that start a module's Run (the email delivery tests) are not
// parallel, and each waits for its own emails before it ends; the parallel
// tests (uploads, refusals) never start Run, and run only after the
// sequential ones have finished.
func TestMain(m *testing.M) { testdb.Main(m) }

const password = "secret123"

// env is one real gRPC server serving the user and common modules over the
// package's database, with the common module's storage.
type env struct {
	pool    *pgxpool.Pool
	userMod *user.Module
	mod     *common.Module
	cfg     common.Config
	users   userpb.UserServiceClient
	common  commonpb.CommonServiceClient

	// With the fs backend (the default): where objects are kept, where
	// uploads are spooled; the base URL the media handler is served at,
	// and the links it opens.
	storeDir string
	spoolDir string
	baseURL  string
	links    *media.Links
}

// options tune setup; the zero value serves an fs store and runs no
// email worker.
type options struct {
	cfg   common.Config
	store storage.Storage // nil: an fs store served over HTTP
	log   *zerolog.Logger // nil: no log
	run   bool            // start the module's Run (email worker)
}

// setup serves the user module and a common module built from o.
func setup(t testing.TB, o options) *env {
	t.Helper()
	pool := testdb.Pool(t)
	users := user.New(pool, testkit.MediaLinks(t), user.Config{
		TokenTTL: time.Hour, LoginMaxFailures: 10, LoginWindow: time.Minute, PasswordParams: testkit.CheapHashing,
	})
	e := &env{pool: pool, userMod: users}

	// The media handler mounted as cmd/parley mounts it.
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.baseURL = srv.URL
	secret, err := common.MediaLinkSecret(context.Background(), pool)
	require.NoError(t, err)
	e.links, err = media.NewLinks(srv.URL+"/media", secret, time.Hour)
	require.NoError(t, err)
	store := o.store
	if store == nil {
		e.storeDir = filepath.Join(t.TempDir(), "media")
		fsStore, err := storage.NewFS(e.storeDir)
		require.NoError(t, err)
		store = fsStore
		if o.cfg.SpoolDir == "" {
			o.cfg.SpoolDir = fsStore.TempDir()
		}
	}
	mux.Handle("GET /media/", e.links.Handler(store.Serve))
	if o.cfg.SpoolDir == "" {
		o.cfg.SpoolDir = filepath.Join(t.TempDir(), "spool")
	}
	e.spoolDir = o.cfg.SpoolDir
	e.cfg = o.cfg

	log := zerolog.Nop()
	if o.log != nil {
		log = *o.log
	}
	mod, err := common.New(pool, store, e.links, common.Content{}, o.cfg, log)
	require.NoError(t, err)
	e.mod = mod
	if o.run {
		run(t, mod)
	}

	conn := testserver.Start(t, grpcserver.Options{
		Authenticator: users,
		PublicMethods: slices.Concat(user.PublicMethods, common.PublicMethods),
	}, users.Register, mod.Register)
	e.users = userpb.NewUserServiceClient(conn)
	e.common = commonpb.NewCommonServiceClient(conn)
	return e
}

// run runs m's background work (the email worker) until the test ends; the
// cleanup returns once Run has.
func run(t testing.TB, m *common.Module) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		m.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ran:
		case <-time.After(15 * time.Second):
			t.Error("common module Run did not return after its context was cancelled")
		}
	})
}

// person is a signed-up, signed-in user.
type person struct {
	id       uint64
	nickname string
	token    string
	ctx      context.Context // carries the token
}

func (e *env) signUpAs(t testing.TB, prefix string, admin bool) person {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nick := testkit.Unique(prefix)
	created, err := e.users.CreateUser(ctx, &userpb.UserCreateRequest{Nickname: nick, Password: password, PasswordRpt: password})
	require.NoError(t, err)
	if admin {
		require.NoError(t, e.userMod.SetAdmin(ctx, nick, true))
	}
	login, err := e.users.UserLogin(ctx, &userpb.UserLoginRequest{Nickname: nick, Password: password})
	require.NoError(t, err)
	return person{id: created.GetUser().GetId(), nickname: nick, token: login.GetToken(), ctx: testkit.WithToken(login.GetToken())}
}

// signUp creates a user over gRPC and logs them in.
func (e *env) signUp(t testing.TB, prefix string) person { return e.signUpAs(t, prefix, false) }

// signUpAdmin creates a user, makes them an admin and logs them in.
func (e *env) signUpAdmin(t testing.TB, prefix string) person { return e.signUpAs(t, prefix, true) }

// upload sends data in chunks of chunkSize bytes and returns the URL the
// server answers with.
func upload(ctx context.Context, c commonpb.CommonServiceClient, data []byte, chunkSize int) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream, err := c.UploadImage(ctx)
	if err != nil {
		return "", err
	}
	for off := 0; off < len(data); off += chunkSize {
		err := stream.Send(&commonpb.UploadImageRequest{Content: data[off:min(off+chunkSize, len(data))]})
		if errors.Is(err, io.EOF) {
			break // the server has answered already; CloseAndRecv says how
		}
		if err != nil {
			return "", err
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return "", err
	}
	return resp.GetUrl(), nil
}

// files lists the regular files under dir (none when it does not exist).
func files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			out = append(out, path)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// storedObjects lists the object files of the fs store (not the spool).
func (e *env) storedObjects(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, f := range files(t, e.storeDir) {
		if !strings.HasPrefix(f, e.spoolDir+string(os.PathSeparator)) {
			out = append(out, f)
		}
	}
	return out
}

// objectRows counts the common.objects rows owned by p.
func (e *env) objectRows(t testing.TB, p person) int {
	t.Helper()
	var n int
	err := e.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM common.objects WHERE owner_id = $1`, int64(p.id)).Scan(&n)
	require.NoError(t, err)
	return n
}

// requireNothingStored checks that p has no object rows, and that the store
// and the spool directory hold no files.
func (e *env) requireNothingStored(t testing.TB, p person) {
	t.Helper()
	require.Empty(t, files(t, e.spoolDir), "spool files left behind")
	if e.storeDir != "" {
		require.Empty(t, e.storedObjects(t), "objects stored")
	}
	require.Zero(t, e.objectRows(t, p), "object rows recorded")
}

// objectRow is a common.objects row.
type objectRow struct {
	ownerID       int64
	size          int64
	contentType   string
	width, height int32
}

func (e *env) object(t testing.TB, key string) objectRow {
	t.Helper()
	var r objectRow
	err := e.pool.QueryRow(context.Background(),
		`SELECT owner_id, size, content_type, width, height FROM common.objects WHERE key = $1`, key).
		Scan(&r.ownerID, &r.size, &r.contentType, &r.width, &r.height)
	require.NoError(t, err, "object row %s", key)
	return r
}
