package dumps

// testChain is the chain of the formats dumps reads itself, the socket
// listings; the dumps are read by dumps/jvm and dumps/golang.
func testChain() Chain { return SocketFormats() }
