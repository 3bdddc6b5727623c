using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace L2OEvolve.Torch.Tests;

/// <summary>
/// The methods each method of an assembly calls, read from its IL: call, callvirt, newobj, ldftn and ldvirtftn targets,
/// named as <c>Namespace.Type+Nested::Name(ParamTypes)ReturnType</c> so names agree across assemblies.
/// </summary>
internal static class IlCalls
{
    /// <summary>Every method with a body in the assembly at <paramref name="path"/>, with the methods it calls.</summary>
    public static IReadOnlyDictionary<string, string[]> Read(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var md = pe.GetMetadataReader();
        var result = new Dictionary<string, string[]>();
        foreach (var handle in md.MethodDefinitions)
        {
            var def = md.GetMethodDefinition(handle);
            if (def.RelativeVirtualAddress == 0) continue;
            var name = MethodName(md, handle);
            var callees = Callees(md, pe.GetMethodBody(def.RelativeVirtualAddress).GetILReader());
            // Overloads that differ only in custom modifiers collapse to one name; their calls are merged.
            result[name] = result.TryGetValue(name, out var earlier) ? [.. earlier, .. callees] : [.. callees];
        }
        return result;
    }

    /// <summary>
    /// The methods of <paramref name="calls"/> that reach a method matching <paramref name="seed"/>, directly or through
    /// other methods of <paramref name="calls"/> (the transitive closure over direct calls; virtual dispatch is not followed).
    /// </summary>
    public static HashSet<string> Reaching(IReadOnlyDictionary<string, string[]> calls, Func<string, bool> seed)
    {
        var reached = calls.Where(kv => kv.Value.Any(seed)).Select(kv => kv.Key).ToHashSet();
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var (method, callees) in calls)
                if (!reached.Contains(method) && callees.Any(reached.Contains)) grew = reached.Add(method) | grew;
        }
        return reached;
    }

    private static List<string> Callees(MetadataReader md, BlobReader il)
    {
        var list = new List<string>();
        while (il.RemainingBytes > 0)
        {
            int op = il.ReadByte();
            if (op == 0xFE) op = 0xFE00 | il.ReadByte();
            if (op is 0x28 or 0x6F or 0x73 or 0xFE06 or 0xFE07) // call, callvirt, newobj, ldftn, ldvirtftn
                list.Add(MemberName(md, MetadataTokens.EntityHandle(il.ReadInt32())));
            else
            {
                int size = OperandSize(op, ref il); // reads a switch's count first, which moves the offset
                il.Offset += size;
            }
        }
        return list;
    }

    // Operand sizes of ECMA-335 §III opcodes (the ones with no operand fall through to 0).
    private static int OperandSize(int op, ref BlobReader il) => op switch
    {
        0x45 => 4 * il.ReadInt32(), // switch: a count, then that many 4-byte targets
        0x21 or 0x23 => 8, // ldc.i8, ldc.r8
        0x20 or 0x22 or (>= 0x38 and <= 0x44) or 0xDD => 4, // ldc.i4, ldc.r4, long branches, leave
        0x27 or 0x29 or 0x70 or 0x71 or 0x72 or 0x74 or 0x75 or 0x79 or (>= 0x7B and <= 0x81) or 0x8C or 0x8D or 0x8F
            or (>= 0xA3 and <= 0xA5) or 0xC2 or 0xC6 or 0xD0 or 0xFE15 or 0xFE16 or 0xFE1C => 4, // token operands
        (>= 0x0E and <= 0x13) or 0x1F or (>= 0x2B and <= 0x37) or 0xDE or 0xFE12 or 0xFE19 => 1, // short forms
        (>= 0xFE09 and <= 0xFE0E) => 2, // ldarg, ldarga, starg, ldloc, ldloca, stloc
        _ => 0,
    };

    private static string MemberName(MetadataReader md, EntityHandle handle) => handle.Kind switch
    {
        HandleKind.MethodDefinition => MethodName(md, (MethodDefinitionHandle)handle),
        HandleKind.MemberReference => ReferenceName(md, md.GetMemberReference((MemberReferenceHandle)handle)),
        HandleKind.MethodSpecification => MemberName(md, md.GetMethodSpecification((MethodSpecificationHandle)handle).Method),
        _ => "?",
    };

    private static string MethodName(MetadataReader md, MethodDefinitionHandle handle)
    {
        var def = md.GetMethodDefinition(handle);
        return $"{TypeName(md, md.GetTypeDefinition(def.GetDeclaringType()))}::{md.GetString(def.Name)}{Signature(md, def.Signature)}";
    }

    private static string ReferenceName(MetadataReader md, MemberReference reference)
    {
        string parent = reference.Parent.Kind switch
        {
            HandleKind.TypeDefinition => TypeName(md, md.GetTypeDefinition((TypeDefinitionHandle)reference.Parent)),
            HandleKind.TypeReference => TypeName(md, md.GetTypeReference((TypeReferenceHandle)reference.Parent)),
            HandleKind.TypeSpecification => md.GetTypeSpecification((TypeSpecificationHandle)reference.Parent).DecodeSignature(Names.Instance, null),
            _ => "?",
        };
        return $"{parent}::{md.GetString(reference.Name)}{Signature(md, reference.Signature)}";
    }

    private static string Signature(MetadataReader md, BlobHandle blob)
    {
        var reader = md.GetBlobReader(blob);
        if (reader.ReadSignatureHeader().Kind != SignatureKind.Method) return "";
        reader.Reset();
        var sig = new SignatureDecoder<string, object?>(Names.Instance, md, null).DecodeMethodSignature(ref reader);
        return $"({string.Join(",", sig.ParameterTypes)}){sig.ReturnType}";
    }

    private static string TypeName(MetadataReader md, TypeDefinition type)
    {
        var name = md.GetString(type.Name);
        if (!type.GetDeclaringType().IsNil) return TypeName(md, md.GetTypeDefinition(type.GetDeclaringType())) + "+" + name;
        var ns = md.GetString(type.Namespace);
        return ns.Length > 0 ? ns + "." + name : name;
    }

    private static string TypeName(MetadataReader md, TypeReference type)
    {
        var name = md.GetString(type.Name);
        if (type.ResolutionScope.Kind == HandleKind.TypeReference)
            return TypeName(md, md.GetTypeReference((TypeReferenceHandle)type.ResolutionScope)) + "+" + name;
        var ns = md.GetString(type.Namespace);
        return ns.Length > 0 ? ns + "." + name : name;
    }

    private sealed class Names : ISignatureTypeProvider<string, object?>
    {
        public static readonly Names Instance = new();
        public string GetArrayType(string element, ArrayShape shape) => element + "[" + new string(',', shape.Rank - 1) + "]";
        public string GetByReferenceType(string element) => element + "&";
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetGenericInstantiation(string generic, ImmutableArray<string> arguments) => generic + "<" + string.Join(",", arguments) + ">";
        public string GetGenericMethodParameter(object? context, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? context, int index) => "!" + index;
        public string GetModifiedType(string modifier, string unmodified, bool isRequired) => unmodified;
        public string GetPinnedType(string element) => element;
        public string GetPointerType(string element) => element + "*";
        public string GetPrimitiveType(PrimitiveTypeCode code) => code.ToString();
        public string GetSZArrayType(string element) => element + "[]";
        public string GetTypeFromDefinition(MetadataReader md, TypeDefinitionHandle handle, byte kind) => TypeName(md, md.GetTypeDefinition(handle));
        public string GetTypeFromReference(MetadataReader md, TypeReferenceHandle handle, byte kind) => TypeName(md, md.GetTypeReference(handle));
        public string GetTypeFromSpecification(MetadataReader md, object? context, TypeSpecificationHandle handle, byte kind) =>
            md.GetTypeSpecification(handle).DecodeSignature(this, context);
    }
}
