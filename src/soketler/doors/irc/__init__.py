"""The IRC door: IRC clients (irssi, WeeChat, HexChat) in the same rooms as everyone.

`door.py` is its entry (the `Door` a listener names); `commands.py` is the command
table and its one dispatch; the handlers in the modules beside it answer through a
response buffer (`context.Context`) and reach the chat only through the operations in
`hubapi.py`, which `adapter.py` gives over the hub's neutral ones.
"""
