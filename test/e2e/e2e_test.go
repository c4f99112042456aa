//go:build e2e

// Package e2e runs the web page end to end: `parley serve` on its own local
// PostgreSQL cluster, and the scripts in web/e2e driving Debian's Chromium
// with playwright-core (make test-e2e). chat.mjs has two people sign up and
// chat live; groups.mjs has three run a group (approval, a request
// approved, roles, an invite link, a reported message deleted, a mute, a
// ban, ownership) from its settings panel and see its events; signals.mjs has three see each other's
// typing, receipts and presence, and set up their lists (pin, mute,
// archive); client.mjs checks
// the page against data this test sends over gRPC first (seed.json:
// history, every message type, people to find).
// Screenshots are kept in $E2E_ARTIFACTS (default artifacts/e2e at the
// repository root).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
)

const password = "browser-password-1"

// historyLength is how many messages the scroll-back check pages through:
// three pages of 50.
const historyLength = 130

func TestWebPage(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	artifacts := os.Getenv("E2E_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(root, "artifacts", "e2e")
	}
	require.NoError(t, os.MkdirAll(artifacts, 0o755))

	dir, err := os.MkdirTemp("", "parley-e2e-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755)) // the cluster may run as the postgres user
	bin := filepath.Join(dir, "parley")
	build := exec.Command("go", "build", "-o", bin, "./cmd/parley")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	require.NoError(t, build.Run())

	httpAddr, grpcAddr := freeAddr(t), freeAddr(t)
	logFile, err := os.Create(filepath.Join(artifacts, "parley.log"))
	require.NoError(t, err)
	defer logFile.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serve := exec.CommandContext(ctx, bin, "serve", "-data-dir", filepath.Join(dir, "data"),
		"-storage-dir", filepath.Join(dir, "media"), "-grpc-addr", grpcAddr, "-http-addr", httpAddr, "-admin-addr", "", "-log-level", "warn",
		"-send-rate", "1000", "-send-burst", "1000")
	serve.Stdout, serve.Stderr = logFile, logFile
	serve.Cancel = func() error { return serve.Process.Signal(os.Interrupt) } // stop its cluster too
	serve.WaitDelay = 30 * time.Second
	require.NoError(t, serve.Start())
	t.Cleanup(func() { cancel(); _ = serve.Wait() })
	base := "http://" + httpAddr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 90*time.Second, 200*time.Millisecond, "parley did not become ready (see %s)", logFile.Name())

	t.Run("two browsers chat live", func(t *testing.T) {
		runScript(t, root, "chat.mjs", base, artifacts)
	})
	t.Run("group governance", func(t *testing.T) {
		runScript(t, root, "groups.mjs", base, artifacts)
	})
	// Presence keeps a user online for its production grace (10 s) after
	// its last page closed: `parley serve` has no flag for the test knob
	// (parley.Options.PresenceGrace), so the script waits it out.
	t.Run("typing, receipts, presence and conversation settings", func(t *testing.T) {
		runScript(t, root, "signals.mjs", base, artifacts)
	})
	t.Run("the client", func(t *testing.T) {
		conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer conn.Close()
		seedFile := filepath.Join(dir, "seed.json")
		data, err := json.Marshal(seedData(t, conn))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(seedFile, data, 0o600))
		runScript(t, root, "client.mjs", base, artifacts, seedFile)
	})
}

func runScript(t *testing.T, root, script string, args ...string) {
	t.Helper()
	node := exec.Command("node", append([]string{script}, args...)...)
	node.Dir = filepath.Join(root, "web", "e2e")
	out, err := node.CombinedOutput()
	t.Logf("%s", out)
	require.NoError(t, err, "%s failed; screenshots and the server log are in %s", script, args[1])
}

// person is a user the scripts sign in as or send as.
type person struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
	Password string `json:"password"`
	Token    string `json:"token"`
}

// seed is what client.mjs checks the page against.
type seed struct {
	Viewer  person   `json:"viewer"`  // signs in to the page
	Pat     person   `json:"pat"`     // sent the history; sends live messages over REST
	Tia     person   `json:"tia"`     // sent one message of each type
	Finds   []person `json:"finds"`   // nicknames sharing a prefix, for the type-ahead
	Prefix  string   `json:"prefix"`  // their common prefix
	Group   string   `json:"group"`   // a group the viewer is not in
	History int      `json:"history"` // messages from Pat, "history 001"…
}

func seedData(t *testing.T, conn *grpc.ClientConn) seed {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	suffix := strconv.FormatInt(time.Now().UnixNano()%1e8, 36)
	users := userpb.NewUserServiceClient(conn)
	signUp := func(nickname string) person {
		created, err := users.CreateUser(ctx, &userpb.UserCreateRequest{Nickname: nickname, Password: password, PasswordRpt: password})
		require.NoError(t, err)
		login, err := users.UserLogin(ctx, &userpb.UserLoginRequest{Nickname: nickname, Password: password})
		require.NoError(t, err)
		return person{ID: strconv.FormatUint(created.GetUser().GetId(), 10), Nickname: nickname, Password: password, Token: login.GetToken()}
	}
	as := func(p person) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+p.Token)
	}
	s := seed{Viewer: signUp("vee" + suffix), Pat: signUp("pat" + suffix), Tia: signUp("tia" + suffix), Prefix: "zed" + suffix, History: historyLength}
	for _, name := range []string{"a", "b", "c"} {
		s.Finds = append(s.Finds, signUp(s.Prefix+name))
	}
	viewerID, err := strconv.ParseUint(s.Viewer.ID, 10, 64)
	require.NoError(t, err)

	messages := messagepb.NewMessageServiceClient(conn)
	for i := 1; i <= historyLength; i++ {
		_, err := messages.SendUserTextMessage(as(s.Pat), &messagepb.SendUserTextMessageRequest{
			ToUserId: viewerID, Text: &messagepb.TextMessage{Content: fmt.Sprintf("history %03d", i)},
		})
		require.NoError(t, err)
	}

	// One message of each type from Tia; media are uploaded, so the page
	// can load them from /media/.
	photo := uploadImage(t, as(s.Tia), commonpb.NewCommonServiceClient(conn))
	tia := as(s.Tia)
	_, err = messages.SendUserTextMessage(tia, &messagepb.SendUserTextMessageRequest{ToUserId: viewerID,
		Text: &messagepb.TextMessage{Content: "see https://example.com/docs for more"}})
	require.NoError(t, err)
	_, err = messages.SendUserImageMessage(tia, &messagepb.SendUserImageMessageRequest{ToUserId: viewerID,
		Image: &messagepb.ImageMessageItem{Url: photo, Width: photoWidth, Height: photoHeight}})
	require.NoError(t, err)
	_, err = messages.SendUserFileMessage(tia, &messagepb.SendUserFileMessageRequest{ToUserId: viewerID,
		File: &messagepb.FileMessage{Url: photo, Size: 2048, Name: "report.pdf"}})
	require.NoError(t, err)
	_, err = messages.SendUserLocationMessage(tia, &messagepb.SendUserLocationMessageRequest{ToUserId: viewerID,
		Location: &messagepb.LocationMessage{Lat: 52.52, Lng: 13.405, Desc: "Alexanderplatz"}})
	require.NoError(t, err)
	_, err = messages.SendUserSoundMessage(tia, &messagepb.SendUserSoundMessageRequest{ToUserId: viewerID,
		Sound: &messagepb.SoundMessage{Url: "https://example.com/voice.ogg", Size: 4000, Seconds: 7}})
	require.NoError(t, err)
	_, err = messages.SendUserVideoMessage(tia, &messagepb.SendUserVideoMessageRequest{ToUserId: viewerID,
		Video: &messagepb.VideoMessage{Url: "https://example.com/clip.mp4", Size: 90000, Seconds: 12, ThumbUrl: photo}})
	require.NoError(t, err)
	_, err = messages.SendUserFaceMessage(tia, &messagepb.SendUserFaceMessageRequest{ToUserId: viewerID,
		Face: &messagepb.FaceMessage{Symbol: "👍"}})
	require.NoError(t, err)

	g, err := grouppb.NewGroupServiceClient(conn).CreateGroup(as(s.Pat), &grouppb.CreateGroupRequest{Name: s.Prefix + " club"})
	require.NoError(t, err)
	s.Group = g.GetGroup().GetName()
	return s
}

// photoWidth × photoHeight is the size of the picture uploadImage sends.
const photoWidth, photoHeight = 240, 160

// uploadImage uploads a picture (a sky over a field) and returns its link.
func uploadImage(t *testing.T, ctx context.Context, common commonpb.CommonServiceClient) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, photoWidth, photoHeight))
	for y := range photoHeight {
		for x := range photoWidth {
			c := color.RGBA{R: uint8(90 + y/2), G: uint8(150 + y/3), B: 235, A: 255}
			if y > photoHeight*2/3 {
				c = color.RGBA{R: 70, G: uint8(140 + x/8), B: 60, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	stream, err := common.UploadImage(ctx)
	require.NoError(t, err)
	require.NoError(t, stream.Send(&commonpb.UploadImageRequest{Content: buf.Bytes()}))
	resp, err := stream.CloseAndRecv()
	require.NoError(t, err)
	return resp.GetUrl()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return fmt.Sprint(l.Addr())
}
