"""Controllers for the public irctest suite (github.com/progval/irctest).

They are loaded by irctest's own pytest run (`make irctest IRCTEST=path`), never by
this project's test suite: irctest is not a dependency and is not in the repository.
"""
