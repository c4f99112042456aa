package main

import (
	"context"
	"flag"
	"net"

	"google.golang.org/grpc"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/api/gen/userpb"
)

// bareMain serves the reference: a grpc-go server with no interceptors,
// answering Ping, GetUser and FeedGet from memory. Parley's numbers are
// compared with it, measured in the same run on the same machine.
func bareMain(args []string) error {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	s := grpc.NewServer()
	userpb.RegisterUserServiceServer(s, bareUsers{})
	feedpb.RegisterFeedServiceServer(s, bareFeeds{})
	return s.Serve(lis)
}

type bareUsers struct {
	userpb.UnimplementedUserServiceServer
}

func (bareUsers) Ping(context.Context, *commonpb.PingRequest) (*commonpb.PingResponse, error) {
	return &commonpb.PingResponse{Content: "pong"}, nil
}

func (bareUsers) GetUser(_ context.Context, req *userpb.UserGetRequest) (*userpb.UserGetResponse, error) {
	return &userpb.UserGetResponse{User: &userpb.User{Id: req.GetId(), Nickname: "bare"}}, nil
}

type bareFeeds struct {
	feedpb.UnimplementedFeedServiceServer
}

func (bareFeeds) FeedGet(_ context.Context, req *feedpb.FeedGetRequest) (*feedpb.FeedGetResponse, error) {
	return &feedpb.FeedGetResponse{Feed: &feedpb.Feed{Id: req.GetId(), Content: "bare"}}, nil
}
