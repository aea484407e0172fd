--[[
Hyperion for slurmctld's job_submit/lua (JobSubmitPlugins=lua; this file
goes beside slurm.conf as job_submit.lua).

A job that asks for a VM (sbatch/srun/salloc --vm-image) may only run on
nodes that advertise the "hyperion" feature, which `hyperionctl check
--features` computes and the health check keeps true (doc/admin-guide.md,
"Node features"). slurmctld runs this for every submission, so users cannot
skip it; it sees the option in the job's SPANK environment, which sbatch and
srun fill from --vm-image whatever --export says.
--]]

local OPTION = "_SLURM_SPANK_OPTION_hyperion_vm_image"
local FEATURE = "hyperion"

local function asks_for_vm(job_desc)
	local env = job_desc.spank_job_env
	if env == nil then
		return false
	end
	for _, entry in pairs(env) do
		if entry == OPTION or string.sub(entry, 1, #OPTION + 1) == OPTION .. "=" then
			return true
		end
	end
	return false
end

-- "hyperion" as a whole word of the constraint, not "hyperion_kvm" alone
local function requires_feature(features)
	for word in string.gmatch(features, "[%w_.-]+") do
		if word == FEATURE then
			return true
		end
	end
	return false
end

function slurm_job_submit(job_desc, part_list, submit_uid)
	if not asks_for_vm(job_desc) then
		return slurm.SUCCESS
	end
	local features = job_desc.features
	if features == nil or features == "" then
		job_desc.features = FEATURE
	elseif not requires_feature(features) then
		job_desc.features = "(" .. features .. ")&" .. FEATURE
	end
	return slurm.SUCCESS
end

function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
	return slurm.SUCCESS
end

return slurm.SUCCESS
