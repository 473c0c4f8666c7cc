"""The web side of ``regie serve``, on the same aiohttp application as the chat channels.

``app.py`` wires it (``setup_web``); ``sessions.py`` keeps who is signed in (database
sessions, a cookie, CSRF); ``security.py`` the headers every response gets; ``signin.py`` the
one-time sign-in links; ``download.py`` and ``export_files.py`` the "download my data" files;
``pages/`` the signed-in pages. Only the modules that serve requests import aiohttp:
``export_files``, ``templating`` and ``urls`` are used by the console as well.
"""
