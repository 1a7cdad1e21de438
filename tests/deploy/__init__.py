"""The deployment files (docker-compose.yml, the Dockerfile, deploy/), checked without a Docker
engine: against the compose specification's schema and against the project itself."""
