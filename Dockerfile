# mlpipe image for k8s/: one image, the command picks the process (`registry`, `serve`, `start`).
# Not built in CI (no container engine on the CI machines); build with `docker build -t mlpipe .`.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
# Production dependencies only; onnxruntime-node's CUDA download is skipped (.npmrc, allowScripts).
RUN npm ci --omit=dev && npm cache clean --force
COPY bin ./bin
COPY cli ./cli
COPY console/dist ./console/dist
COPY core ./core
COPY gateway ./gateway
COPY gen ./gen
COPY registry ./registry
COPY server ./server
COPY sdk ./sdk
COPY training ./training
COPY data ./data
USER 1000
EXPOSE 5000 8000
ENTRYPOINT ["node", "bin/mlpipe.js"]
CMD ["start"]
