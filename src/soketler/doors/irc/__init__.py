"""The IRC door: IRC clients (irssi, WeeChat, HexChat) in the same rooms as everyone.

`commands.py` is the command table and its one dispatch; the handlers in the
modules beside it answer through a response buffer (`context.Context`) and reach the
chat only through the hub operations in `hubapi.py`.
"""
