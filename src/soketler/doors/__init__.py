"""Ways into the chat: each door wires a wire format and its listener to the hub."""
