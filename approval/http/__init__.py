"""What the engine's two HTTP faces share. The API (approval.api: JSON for department systems
and programs) and the console (approval.web: pages for people) are peers: neither imports the
other, both import this. Here are the paging parameters of every list, the rate limits, the
HTTP status and OpenAPI answer of each refusal, the dependencies both take (the engine, a
store session, the role checks of R22) and the request bodies of the actions, which the
command line, a client of the API, builds too. The app that serves both faces is
approval.api.app; it mounts the console's router, the console never imports the API."""
