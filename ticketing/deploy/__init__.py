"""Deployment on AWS Lambda: the WSGI entry Zappa runs, and the post-deploy step."""
