package main

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/modules/message"
)

// The attack: a private conversation's photo was public at /media/<sha256>
// to anyone with the file or its hash, and a message (or feed) naming the
// hash got anyone a link. Now a file opens only through a link the server
// signed for someone who may see it.
func TestMessageMediaIsForParticipantsOnly(t *testing.T) {
	t.Parallel()
	e := restServe(t)
	alice, bob, mallory := e.signUp(t, false), e.signUp(t, false), e.signUp(t, false)
	img := restNoisePNG(t, 40, 30)

	uploaded, hashOnly := e.upload(t, alice, img)
	code, got := e.fetch(t, uploaded)
	require.Equal(t, http.StatusOK, code, "the uploader's link opens")
	require.Equal(t, img, got)
	key := hashOnly[strings.LastIndex(hashOnly, "/")+1:]

	code, got = e.fetch(t, hashOnly)
	require.Equal(t, http.StatusForbidden, code, "the hash alone opens nothing")
	require.Contains(t, string(got), "not signed")

	// Bob's device is online on an edge gateway: the push carries a link too.
	gatewayID := "edge-" + authzRandom()
	edge := e.rpc.openEdge(t, gatewayID)
	e.rpc.registerClient(t, &authzUser{token: bob.token}, gatewayID, "c-"+authzRandom())

	sendImage := func(from, to clusterUser, imageURL string) restReply {
		return e.do(t, http.MethodPost, "/v1/api/message/image/user", from.token,
			map[string]any{"to_user_id": to.id, "image": map[string]any{"url": imageURL, "width": 40, "height": 30}})
	}
	id := restUint(t, sendImage(alice, bob, uploaded).ok(t), "id")

	var stored []byte
	require.NoError(t, e.pool.QueryRow(context.Background(), "SELECT body FROM messages.messages WHERE id = $1", int64(id)).Scan(&stored))
	var body messagepb.ImageMessageItem
	require.NoError(t, proto.Unmarshal(stored, &body))
	require.Equal(t, "media:"+key, body.GetUrl(), "the message stores the key, not a link")

	synced := restString(t, e.syncedMessage(t, bob, pairConversation(alice.id, bob.id), id), "image", "url")
	code, got = e.fetch(t, synced)
	require.Equal(t, http.StatusOK, code, "a participant's synced link opens")
	require.Equal(t, img, got)

	f := restAwaitFrame(t, edge, func(f *gatewaypb.SendMessageResponse) bool { return f.GetCmd() == message.CmdMessage })
	var pushed messagepb.Message
	require.NoError(t, proto.Unmarshal(f.GetData(), &pushed))
	code, got = e.fetch(t, pushed.GetImage().GetUrl())
	require.Equal(t, http.StatusOK, code, "the pushed link opens")
	require.Equal(t, img, got)

	// Mallory knows the hash: naming it in a message or a feed is refused,
	// so the server never signs a link for her.
	sendImage(mallory, bob, hashOnly).fails(t, http.StatusBadRequest, codes.InvalidArgument, "image.url: the link is not signed")
	sendImage(mallory, bob, hashOnly+"?exp=99999999999&sig=AAAAAAAAAAAAAAAAAAAAAA").
		fails(t, http.StatusBadRequest, codes.InvalidArgument, "image.url: the link's signature is wrong")
	e.do(t, http.MethodPost, "/v1/api/feed", mallory.token, map[string]any{"type": "Image", "content": "mine now", "resource": []string{hashOnly}}).
		fails(t, http.StatusBadRequest, codes.InvalidArgument, "resource[0]: the link is not signed")
	var mallorys int
	require.NoError(t, e.pool.QueryRow(context.Background(),
		"SELECT (SELECT count(*) FROM messages.messages WHERE from_user_id = $1) + (SELECT count(*) FROM feeds.feeds WHERE user_id = $1)", int64(mallory.id)).Scan(&mallorys))
	require.Zero(t, mallorys, "the refused sends and feed wrote nothing")

	// Bob forwards what he received: he holds a link, so he may.
	restUint(t, sendImage(bob, mallory, synced).ok(t), "id")

	// Alice posts the photo in a public feed: its link does not expire and
	// opens for anyone, signed in or not.
	feed := e.do(t, http.MethodPost, "/v1/api/feed", alice.token, map[string]any{"type": "Image", "content": "public", "resource": []string{uploaded}}).ok(t)
	public := restString(t, restList(t, feed, "feed", "images")[0], "imgUrl")
	publicLink, err := url.Parse(public)
	require.NoError(t, err)
	require.Empty(t, publicLink.Query().Get("exp"), "a public feed's media does not expire")
	code, got = e.fetch(t, public)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, img, got)
}

// Rows from before links were signed hold a bare link to this server's
// media: they are answered with a signed one, so old messages still show.
func TestMessagesFromBeforeSignedLinksStillShow(t *testing.T) {
	t.Parallel()
	e := restServe(t)
	alice, bob := e.signUp(t, false), e.signUp(t, false)
	img := restNoisePNG(t, 20, 20)
	uploaded, hashOnly := e.upload(t, alice, img)
	id := restUint(t, e.do(t, http.MethodPost, "/v1/api/message/image/user", alice.token,
		map[string]any{"to_user_id": bob.id, "image": map[string]any{"url": uploaded}}).ok(t), "id")
	old, err := proto.Marshal(&messagepb.ImageMessageItem{Url: hashOnly})
	require.NoError(t, err)
	_, err = e.pool.Exec(context.Background(), "UPDATE messages.messages SET body = $1 WHERE id = $2", old, int64(id))
	require.NoError(t, err)

	synced := restString(t, e.syncedMessage(t, bob, pairConversation(alice.id, bob.id), id), "image", "url")
	require.Contains(t, synced, "sig=")
	code, got := e.fetch(t, synced)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, img, got)
}

// Avatars are public: an uploaded photo set as a user's or a group's avatar
// is answered with a link that does not expire; the hash alone is refused.
func TestAvatarsAreUploadsWithLinksThatLast(t *testing.T) {
	t.Parallel()
	e := restServe(t)
	alice, mallory := e.signUp(t, false), e.signUp(t, false)
	img := restNoisePNG(t, 16, 16)
	uploaded, hashOnly := e.upload(t, alice, img)

	e.do(t, http.MethodPost, "/v1/api/user/avatar", alice.token, map[string]any{"url": uploaded}).ok(t)
	avatar := restString(t, e.do(t, http.MethodGet, "/v1/api/user/"+strconv.FormatUint(alice.id, 10), mallory.token, nil).ok(t), "user", "avatarUrl")
	requireLastingLink(t, e, avatar, img)

	group := e.do(t, http.MethodPost, "/v1/api/group/create", alice.token, map[string]any{"name": "photos", "avatar_url": uploaded}).ok(t)
	requireLastingLink(t, e, restString(t, group, "group", "avatarUrl"), img)

	e.do(t, http.MethodPost, "/v1/api/user/avatar", mallory.token, map[string]any{"url": hashOnly}).
		fails(t, http.StatusBadRequest, codes.InvalidArgument, "url: the link is not signed")
	e.do(t, http.MethodPost, "/v1/api/group/create", mallory.token, map[string]any{"name": "mine", "avatar_url": hashOnly}).
		fails(t, http.StatusBadRequest, codes.InvalidArgument, "avatar_url: the link is not signed")
}

// requireLastingLink requires link to be one without expiry that opens on img.
func requireLastingLink(t *testing.T, e *restEnv, link string, img []byte) {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.NotEmpty(t, u.Query().Get("sig"), link)
	require.Empty(t, u.Query().Get("exp"), link)
	code, got := e.fetch(t, link)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, img, got)
}

// upload is img uploaded by u: the private link UploadImage answers, and the
// bare link of its hash (as the seed served files).
func (e *restEnv) upload(t *testing.T, u clusterUser, img []byte) (link, hashOnly string) {
	t.Helper()
	link = restString(t, e.do(t, http.MethodPost, "/v1/api/common/image", u.token, restUploadBody(t, img, 2)).ok(t), "url")
	parsed, err := url.Parse(link)
	require.NoError(t, err)
	return link, parley.PublicURL(e.cfg) + parsed.Path
}
