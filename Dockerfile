# One image for the four services; docker-compose.yml picks the service by command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
COPY etc ./etc
RUN pip install --no-cache-dir .
ENV PINGGU_LOG_JSON=1
CMD ["python", "-m", "services.run", "registry"]
