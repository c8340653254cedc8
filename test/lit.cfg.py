# lit configuration: FileCheck tests of nos-opt passes and nosc stages.
import os
import lit.formats

config.name = "nos"
config.test_format = lit.formats.ShTest(True)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.nos_obj_root, "test")
config.excludes = ["unit", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in"]
config.environment["PATH"] = os.pathsep.join(
    [config.nos_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
# Tests never touch the user's kernel cache.
config.environment["NOS_CACHE_DIR"] = os.path.join(config.test_exec_root, "nos-cache")
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
config.substitutions.append(("%python", "python3"))
config.substitutions.append(("%src", os.path.dirname(config.test_source_root)))
# ptxas validates PTX without a GPU; its tests run where the toolkit is.
if config.nos_ptxas:
    config.available_features.add("ptxas")
    config.environment["PATH"] = os.pathsep.join(
        [os.path.dirname(config.nos_ptxas), config.environment["PATH"]])
if config.nos_enable_torch in ("ON", "1", "TRUE", "YES"):
    config.available_features.add("torch")
# nos-search built with MPI: its tests run a 3-rank job on this machine.
if config.nos_mpiexec:
    config.available_features.add("mpi")
    config.substitutions.append(
        ("%mpirun", config.nos_mpiexec + " --oversubscribe --allow-run-as-root"))
