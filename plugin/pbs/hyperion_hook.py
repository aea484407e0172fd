# SPDX-License-Identifier: GPL-2.0-or-later
# Hyperion's OpenPBS hook: runs VM jobs (-l vm_image=NAME) in their own VM.
# It only maps the event's fields onto hyperion-pbs's arguments; what a VM
# is, how it is sized, started, entered and released is hyperion-pbs's
# business (doc/pbs.md). Configuration (qmgr import hook ... application/
# x-config): a JSON object with "helper" (hyperion-pbs), optional "config"
# (hyperion.conf) and "exec" (hyperion-exec).
import json
import subprocess

import pbs

HELPER = "/usr/local/libexec/hyperion/hyperion-pbs"


def settings():
    conf = {"helper": HELPER}
    if pbs.hook_config_filename:
        with open(pbs.hook_config_filename) as f:
            conf.update(json.load(f))
    cmd = [conf["helper"]]
    if conf.get("config"):
        cmd += ["--config", conf["config"]]
    if conf.get("exec"):
        cmd += ["--exec", conf["exec"]]
    return cmd


def helper(args):
    p = subprocess.run(settings() + args, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    out = p.stdout.decode(errors="replace").strip()
    if out:
        pbs.logmsg(pbs.LOG_DEBUG, "hyperion-pbs %s: %s" % (args[0], out))
    return p.returncode, out


def text(value):
    return "" if value is None else str(value)


def node():
    return pbs.get_local_nodename()


def queuejob(e):
    # vm_image is job-wide and does not reach the moms: hyperion-pbs checks
    # it and gives the select that carries it to them in every chunk.
    rl = e.job.Resource_List
    rc, out = helper(["check-image", "--select", text(rl["select"]),
                      text(rl["vm_image"])])
    if rc != 0:
        e.reject(out.replace("hyperion-pbs: ", ""))
    if out:
        rl["select"] = pbs.select(out)


def fail_job(e, message):
    # A user's mistake (an image, a size) or its VM failing ends the job:
    # delete it rather than let PBS requeue it, and keep the node up.
    message = message.replace("hyperion-pbs: ", "").strip()
    pbs.logjobmsg(e.job.id, "hyperion: " + message)
    e.job.delete()
    e.reject(message)


def job_args(j):
    return ["--job", j.id, "--node", node()]


def begin(e):
    j = e.job
    rc, out = helper(["start"] + job_args(j) + [
        "--user", text(j.euser), "--exec-vnode", text(j.exec_vnode),
        "--select", text(j.schedselect)])
    if rc != 0:
        fail_job(e, out)


def launch(e):
    j = e.job
    argv = [text(e.progname)] + [text(a) for a in (e.argv or [])[1:]]
    extra = ["--interactive"] if j.interactive else []
    p = subprocess.run(settings() + ["exec-argv"] + job_args(j) + extra + [
        "--select", text(j.schedselect), "--"] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode == 3:
        return  # not a VM job: runs on the host as before
    if p.returncode != 0:
        fail_job(e, p.stderr.decode(errors="replace"))
    new = p.stdout.decode().split("\0")[:-1]
    e.progname = new[0]
    e.argv = []
    for a in new:
        e.argv.append(a)


def end(e):
    rc, out = helper(["stop"] + job_args(e.job))
    if rc != 0:
        pbs.logmsg(pbs.LOG_ERROR, "hyperion: " + out)


def startup(e):
    # hyperion-pbs check prints the node's features ("" when it has none)
    rc, out = helper(["check"])
    features = out.splitlines()[-1] if rc == 0 and out else ""
    e.vnode_list[node()].resources_available["hyperion_vm"] = features != ""
    if not features:
        pbs.logmsg(pbs.LOG_ERROR, "hyperion: this node cannot run VM jobs: " + out)


EVENTS = {
    pbs.QUEUEJOB: queuejob,
    pbs.EXECJOB_BEGIN: begin,
    pbs.EXECJOB_LAUNCH: launch,
    pbs.EXECJOB_END: end,
    pbs.EXECJOB_ABORT: end,
    pbs.EXECHOST_STARTUP: startup,
}

e = pbs.event()
try:
    EVENTS[e.type](e)
except SystemExit:
    pass
