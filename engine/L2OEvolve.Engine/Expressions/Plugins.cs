using System.Reflection;

namespace L2OEvolve.Engine.Expressions;

/// <summary>
/// Loads operator plug-ins: assemblies holding public, non-abstract subclasses of <see cref="Op"/> with a public
/// parameterless constructor. Each is instantiated once and registered (<see cref="Ops.Register"/>), after which
/// grammars, rule files, equations and checkpoints may name it like a built-in operator.
/// </summary>
public static class Plugins
{
    /// <summary>Loads the plug-in at <paramref name="path"/> and registers its operators (loading the same file twice is harmless).</summary>
    /// <returns>The operators it defines.</returns>
    /// <exception cref="InputException">The file is missing or not an assembly, defines no operator, or an operator
    /// cannot be created or clashes with one already known (the message names the file and the operator).</exception>
    public static IReadOnlyList<Op> Load(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new InputException("no such plug-in file", path);
        Assembly assembly;
        try
        {
            assembly = Assembly.LoadFrom(full);
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or IOException)
        {
            throw new InputException($"not a .NET assembly ({e.Message})", path);
        }
        Type[] types;
        try
        {
            types = assembly.GetExportedTypes();
        }
        catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException or TypeLoadException)
        {
            throw new InputException($"its types cannot be loaded ({e.Message}); is it built against this version of L2OEvolve.Engine?", path);
        }
        var ops = new List<Op>();
        foreach (var type in types.Where(t => t.IsClass && !t.IsAbstract && typeof(Op).IsAssignableFrom(t)).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            if (type.GetConstructor(Type.EmptyTypes) is null)
                throw new InputException($"operator class {type.FullName} has no public parameterless constructor", path);
            Op op;
            try
            {
                op = (Op)Activator.CreateInstance(type)!;
            }
            catch (TargetInvocationException e)
            {
                throw new InputException($"operator class {type.FullName} failed to construct: {e.InnerException?.Message}", path);
            }
            try
            {
                ops.Add(Ops.Register(op));
            }
            catch (ArgumentException e)
            {
                throw new InputException(e.Message, path);
            }
        }
        if (ops.Count == 0) throw new InputException($"defines no operator (a public class deriving from {typeof(Op).FullName})", path);
        return ops;
    }
}
