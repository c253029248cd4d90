// The client of the deployment server.
