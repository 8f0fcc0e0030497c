"""HTTP and WebSocket edges: parse, authorize, call one service, serialize."""
